package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// result is one download, checked as it streams (never held whole).
type result struct {
	took, firstByte time.Duration
	bytes           int64
	counts          map[string]int
	complete        bool
}

// scalarMembers are the document's members that are not lists.
var scalarMembers = map[string]bool{"format": true, "format_version": true, "client_id": true, "exported_at": true,
	"redisclosure_notice": true, "profile": true, "complete": true}

// download fetches a client's export and walks it token by token: each
// list's elements are counted, and the document must end with
// "complete": true and then nothing.
func download(ctx context.Context, hc *http.Client, base string, a account) (result, error) {
	r := result{counts: map[string]int{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/clients/"+a.clientID+"/export", nil)
	if err != nil {
		return r, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	start := time.Now()
	res, err := hc.Do(req)
	if err != nil {
		return r, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return r, fmt.Errorf("export: %d %s", res.StatusCode, b)
	}
	cr := &countingReader{r: res.Body, start: start}
	err = walk(json.NewDecoder(cr), &r)
	r.took, r.bytes, r.firstByte = time.Since(start), cr.n, cr.first
	return r, err
}

func walk(dec *json.Decoder, r *result) error {
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		if scalarMembers[key] {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			r.complete = key == "complete" && string(raw) == "true"
			continue
		}
		if r.complete {
			return fmt.Errorf("member %q after complete", key)
		}
		if err := expectDelim(dec, '['); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fmt.Errorf("%s[%d]: %w", key, r.counts[key], err)
			}
			r.counts[key]++
		}
		if err := expectDelim(dec, ']'); err != nil {
			return err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("data after the document: %v", err)
	}
	if !r.complete {
		return errIncomplete
	}
	return nil
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t != d {
		return fmt.Errorf("expected %v, got %v", d, t)
	}
	return nil
}

type countingReader struct {
	r     io.Reader
	n     int64
	start time.Time
	first time.Duration
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 && c.n == 0 {
		c.first = time.Since(c.start)
	}
	c.n += int64(n)
	return n, err
}
