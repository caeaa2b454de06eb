package sqlstore

import (
	"crypto/rand"
	"fmt"
)

// The formats of the page_token column.
const (
	tokenPlain  = 0 // UTF-8 text
	tokenSealed = 1 // AES-256-GCM: nonce, then ciphertext and tag
)

// tokenAD binds a sealed token to its channel, so that a token copied into
// another channel's row does not decrypt.
func tokenAD(channelID string) []byte {
	return []byte("pagedesk/sqlstore/page_token/v1/" + channelID)
}

// sealToken returns what to store for a channel's Page token: sealed when
// the store has a key, plain otherwise. An empty token stays empty.
func (s *Store) sealToken(channelID, token string) ([]byte, int16, error) {
	if token == "" {
		return []byte{}, tokenPlain, nil
	}
	if s.aead == nil {
		return []byte(token), tokenPlain, nil
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(token)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: sealing page token: %w", err)
	}
	return s.aead.Seal(nonce, nonce, []byte(token), tokenAD(channelID)), tokenSealed, nil
}

// openToken reverses sealToken.
func (s *Store) openToken(channelID string, raw []byte, format int16) (string, error) {
	switch format {
	case tokenPlain:
		return string(raw), nil
	case tokenSealed:
		if s.aead == nil {
			return "", fmt.Errorf("%w: channel %s: the token is sealed and Config.TokenKey is not set", ErrTokenKey, channelID)
		}
		n := s.aead.NonceSize()
		if len(raw) < n+s.aead.Overhead() {
			return "", fmt.Errorf("%w: channel %s: the sealed token is truncated", ErrTokenKey, channelID)
		}
		plain, err := s.aead.Open(nil, raw[:n], raw[n:], tokenAD(channelID))
		if err != nil {
			// GCM says only that authentication failed: a different key,
			// or a value altered or moved from another channel.
			return "", fmt.Errorf("%w: channel %s: wrong key, or the stored value was altered", ErrTokenKey, channelID)
		}
		return string(plain), nil
	default:
		return "", fmt.Errorf("%w: channel %s: unknown token format %d", ErrTokenKey, channelID, format)
	}
}
