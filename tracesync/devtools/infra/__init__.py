"""Local infrastructure the project runs itself: Kafka (KRaft) nodes from Maven Central jars, etc.

Each module fetches its own runtime, writes its configuration under ``settings.home`` and starts
detached processes that it can find again (pid files) and stop cleanly.
"""
