// Package floor is the hand-written reference that `make bench` measures
// Waypoint against: for each benchmarked call, the least a Go service can do
// for the same work, so the report can say how close the product comes to it.
//
// It is never used by the product: nothing outside bench/ imports it, and it
// serves only on a loopback port the bench driver opens in its own process,
// against the same database as the server under test.
//
// "The same work" means: the same token checks, the same authorization, the
// same rows written (access log, goal history, outbox event, idempotency
// record) and the same response columns. "The least" means: net/http's
// ServeMux, the token checked with go-jose and one RSA verification, claims
// decoded into one struct, then ONE SQL statement (one round trip, one
// implicit transaction) through pgxpool that resolves the person from
// (issuer, subject) and does all of the call's reads and writes, scanned
// straight into the response struct and written with encoding/json. No
// logging, metrics, request ids or framework. What each handler does, and why
// it cannot do less, is in README.md; the SQL mirrors domain/ and must change
// when the product's work changes (the bench driver checks, before
// measuring, that both answer the same and write the same rows).
package floor
