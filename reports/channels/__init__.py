"""Delivery channels: one module per channel (its kind: name, form label, how one
destination is checked and how its delivering objects are built), listed once in
`reports.channels.registry`. Its public names load on first use, so that importing one channel
module never loads the others."""

from copilot.core.lazy import lazy_exports

_EXPORTS = {
    "CHANNELS": ".registry",
    "ChannelKind": ".base",
    "DestinationError": ".base",
}
__all__ = ["CHANNELS", "ChannelKind", "DestinationError"]
__getattr__ = lazy_exports(__name__, _EXPORTS)
