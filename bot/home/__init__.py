"""What each person's App Home shows."""
