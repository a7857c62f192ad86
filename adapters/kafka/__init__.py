"""Kafka in and out: the intake consumer, the dead-letter topic and the availability feed."""
