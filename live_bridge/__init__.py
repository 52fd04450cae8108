"""live_bridge."""
