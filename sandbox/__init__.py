"""The sandbox Wagtail project: the demo site and the project the tests run against."""
