package apikeys

// ParseRevoked exposes parseRevoked to the external tests and fuzz target.
var ParseRevoked = parseRevoked
