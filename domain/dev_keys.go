package domain

import (
	"context"
	"fmt"
)

// DevSigningKey returns the development issuer's PEM key, creating it with
// generate on first use. INSERT ... ON CONFLICT DO NOTHING then SELECT means
// the CLI and a starting server agree on one key even when they race.
func (s *Store) DevSigningKey(ctx context.Context, generate func() ([]byte, error)) ([]byte, error) {
	var pem string
	if err := s.db.WithContext(ctx).Raw(`SELECT pem FROM dev_signing_keys WHERE id = 1`).Scan(&pem).Error; err != nil {
		return nil, fmt.Errorf("read dev signing key: %w", err)
	}
	if pem != "" {
		return []byte(pem), nil
	}
	fresh, err := generate()
	if err != nil {
		return nil, fmt.Errorf("generate dev signing key: %w", err)
	}
	if err := s.db.WithContext(ctx).Exec(`INSERT INTO dev_signing_keys (id, pem) VALUES (1, ?) ON CONFLICT (id) DO NOTHING`, string(fresh)).Error; err != nil {
		return nil, fmt.Errorf("store dev signing key: %w", err)
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT pem FROM dev_signing_keys WHERE id = 1`).Scan(&pem).Error; err != nil {
		return nil, fmt.Errorf("read dev signing key: %w", err)
	}
	return []byte(pem), nil
}
