"""chengxin (诚信) — a city public credit information platform."""

__version__ = "0.1.0"
