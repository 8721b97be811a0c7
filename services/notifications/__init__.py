"""Every township's feed (上下联动): what happens in its villages, on every channel it uses."""
