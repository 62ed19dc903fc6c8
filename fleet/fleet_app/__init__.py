"""A fleet of simulated microtrain devices learning together through Flower."""
