package main

import (
	"context"
	"flag"
	"io"
	"net/http"
)

// callAnalysts sends a request to the analysts' API of a running tipline, as the operator
// commands do (tipline reindex, tipline import), with an API token when one is given.
func callAnalysts(ctx context.Context, client *http.Client, method, target, contentType string, body io.Reader, token string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return client.Do(req)
}

// analystsFlags registers --url (default: tipline serve's analysts' listener) and --token, with
// what each command says of them.
func analystsFlags(fs *flag.FlagSet, urlHelp, tokenHelp string) (target, token *string) {
	return fs.String("url", "http://127.0.0.1:8081", urlHelp), fs.String("token", "", tokenHelp)
}
