"""The load generator: pure load shapes (``shapes``) and the Locust file that drives the shop."""
