"""Models come with their issue; the app is installed so the layout is whole from the start."""
