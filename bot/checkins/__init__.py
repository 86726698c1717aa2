"""Deployments once accepted: agreements, scheduled check-ins, reminders, reviews and closing."""
