from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for the sandbox (the ``seed_demo`` command); no models."""

    name = "sandbox.demo"
    label = "sandbox_demo"
    verbose_name = "Sandbox demo data"
