"""The small core every capability plugs into: findings, facts, registries, waivers, errors."""
