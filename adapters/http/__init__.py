"""The availability HTTP service (aiohttp); see `adapters.http.app` for how features plug in."""
