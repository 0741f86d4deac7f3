"""One module per API tag; each function is named after its operationId's verb."""
