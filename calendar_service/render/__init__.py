"""Pure renderers, one per output; none touches the database."""
