"""The client\x27s data export: everything we hold about a client, as a page and a PDF."""
