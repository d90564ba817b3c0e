"""Delivery channels: one module per channel (its kind: name, form label, how one
destination is checked and how its delivering objects are built), listed once in
`reports.channels.registry`. This package imports nothing on purpose, so that importing one
channel module never loads the others."""
