package channel

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
)

// maxCallbackBytes caps the body of Facebook's callbacks: a form with one
// signed_request of a few hundred bytes.
const maxCallbackBytes = 64 << 10

// signedRequest reads and verifies the signed_request of a callback,
// answering the request itself when it is refused.
func (s *Service) signedRequest(w http.ResponseWriter, r *http.Request) (*messenger.SignedRequest, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxCallbackBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return nil, false
	}
	sr, err := messenger.ParseSignedRequest(r.PostForm.Get("signed_request"), s.appSecret)
	if err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "channel: refused a callback", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		http.Error(w, "bad signed_request", http.StatusForbidden)
		return nil, false
	}
	return sr, true
}

// DeauthorizeHandler is the app's Deauthorize Callback URL (CONN-7 b):
// Facebook posts a signed_request, verified with the app secret (a forged
// one gets 403), when the app is removed:
//
//   - from a Page (the signed_request names the Page, profile_id): the
//     channel holding that Page is disconnected;
//   - by a user from their account (only user_id): every Page token that
//     user's grant gave is revoked. The channel record keeps no admin id,
//     so the handler asks Facebook (/debug_token) about the token of every
//     channel of the services Config.Services lists, and disconnects those
//     whose token is no longer valid. Without Config.Services the host gets
//     a NoticeDeauthorized, and each such channel is disconnected at its
//     next failed Graph call (ReportGraphError) or diagnosis.
//
// It answers 200 once the disconnections are stored, 500 if the store
// failed (Facebook retries).
func (s *Service) DeauthorizeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sr, ok := s.signedRequest(w, r)
		if !ok {
			return
		}
		if err := s.deauthorize(r.Context(), sr.UserID, sr.ProfileID); err != nil {
			s.log.LogAttrs(r.Context(), slog.LevelError, "channel: deauthorize callback failed", slog.String("error", err.Error()))
			http.Error(w, "could not record the deauthorization", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

func (s *Service) deauthorize(ctx context.Context, userID, pageID string) error {
	if userID == "0" {
		userID = ""
	}
	if pageID != "" {
		ch, err := s.store.ChannelByPage(ctx, pageID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		_, _, err = s.disconnect(ctx, ch.ID, "the app was removed from the Page on Facebook; connect the Page again", userID)
		return err
	}
	if userID == "" {
		return nil
	}
	if s.services == nil {
		s.notify(ctx, Notice{Kind: NoticeDeauthorized, UserID: userID})
		return nil
	}
	services, err := s.services(ctx)
	if err != nil {
		return fmt.Errorf("listing the services: %w", err)
	}
	reason := "a Page admin removed the app from their Facebook account, which revoked the Page's token; connect the Page again"
	for _, svc := range services {
		for ch, err := range s.List(ctx, svc) {
			if err != nil {
				return err
			}
			if ch.Status == store.ChannelDisconnected || ch.PageToken == "" {
				continue
			}
			info, err := s.graph.DebugToken(ctx, ch.PageToken)
			if err != nil {
				s.log.LogAttrs(ctx, slog.LevelWarn, "channel: checking a token after deauthorize failed",
					slog.String("channel", ch.ID), slog.String("error", err.Error()))
				continue
			}
			if info.Valid {
				continue
			}
			if _, _, err := s.disconnect(ctx, ch.ID, reason, userID); err != nil {
				return err
			}
		}
	}
	return nil
}

// DeletionStatus is what is known of a data-deletion request.
type DeletionStatus struct {
	ConfirmationCode string
	RequestedAt      time.Time
	// Completed: the data was erased. The callback erases before it
	// answers, so a request that has a code is complete.
	Completed bool
	// Visitors is how many visitor records (one per channel and id) were
	// anonymised, under every Page-scoped id of the person.
	Visitors int
}

const (
	codeNonce = 8
	codeHead  = 8 + 4 + codeNonce
	codeTag   = 16
)

// confirmationCode signs what the deletion did, so that its status can be
// looked up later without storing anything.
func (s *Service) confirmationCode(at time.Time, visitors int) string {
	var b [codeHead + codeTag]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.Unix()))
	binary.BigEndian.PutUint32(b[8:12], uint32(min(visitors, 1<<31-1)))
	_, _ = rand.Read(b[12:codeHead])
	copy(b[codeHead:], s.codeMAC(b[:codeHead]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Service) codeMAC(head []byte) []byte {
	m := hmac.New(sha256.New, s.stateKey)
	m.Write([]byte("pagedesk/channel data deletion\x00"))
	m.Write(head)
	return m.Sum(nil)[:codeTag]
}

// DeletionStatusOf looks up a data-deletion request by the confirmation
// code the data-deletion callback gave Facebook. The code is signed (an
// HMAC checked in constant time), so nothing is stored; a code this
// service did not issue gets ErrBadConfirmationCode.
func (s *Service) DeletionStatusOf(code string) (DeletionStatus, error) {
	b, err := base64.RawURLEncoding.DecodeString(code)
	if err != nil || len(b) != codeHead+codeTag || !hmac.Equal(b[codeHead:], s.codeMAC(b[:codeHead])) {
		return DeletionStatus{}, ErrBadConfirmationCode
	}
	return DeletionStatus{
		ConfirmationCode: code,
		RequestedAt:      time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0).UTC(),
		Completed:        true,
		Visitors:         int(binary.BigEndian.Uint32(b[8:12])),
	}, nil
}

// DataDeletionHandler is the app's Data Deletion Request Callback URL:
// Facebook posts a signed_request (verified with the app secret; a forged
// one gets 403) naming the person who asked Facebook to delete their data
// by their app-scoped user id (user_id). Visitors are known by their
// Page-scoped ids (PSIDs), which never equal it, so the handler first asks
// Facebook's ID matching API for that person's PSIDs (Graph's
// PageScopedIDs, GET /{user-id}/ids_for_pages with the app token: Graph
// needs Config.AppID and AppSecret). Every trace of each PSID, and of the
// user_id itself for a host that stored it, is then anonymised through the
// store (Store.ForgetVisitor: names and picture cleared, message texts,
// payloads and attachments erased, on every channel), and the handler
// answers Facebook's {"url", "confirmation_code"}: url is
// Config.DeletionStatusURL with ?code= the code, served by
// DeletionStatusHandler, whose status counts the visitor records erased.
//
// Nothing is claimed done that was not: if the lookup fails the handler
// answers 502, and if the store fails 500, so Facebook calls again (erasing
// twice is harmless). Facebook lists only the PSIDs of Pages that belong to
// the same business (Business Manager) as the app; a visitor of a Page
// outside it is not found.
func (s *Service) DataDeletionHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sr, ok := s.signedRequest(w, r)
		if !ok {
			return
		}
		if sr.UserID == "" {
			http.Error(w, "the signed_request names no user", http.StatusBadRequest)
			return
		}
		ctx := r.Context()
		ids := []string{sr.UserID}
		seen := map[string]bool{sr.UserID: true}
		for id, err := range s.graph.PageScopedIDs(ctx, sr.UserID) {
			if err != nil {
				s.log.LogAttrs(ctx, slog.LevelError, "channel: data deletion: looking up the Page-scoped ids failed", slog.String("error", err.Error()))
				http.Error(w, "could not look up the person's Page-scoped ids", http.StatusBadGateway)
				return
			}
			if id.PSID != "" && !seen[id.PSID] {
				seen[id.PSID] = true
				ids = append(ids, id.PSID)
			}
		}
		n := 0
		for _, id := range ids {
			k, err := s.store.ForgetVisitor(ctx, id)
			if err != nil {
				s.log.LogAttrs(ctx, slog.LevelError, "channel: data deletion failed", slog.String("error", err.Error()))
				http.Error(w, "could not erase the data", http.StatusInternalServerError)
				return
			}
			n += k
		}
		code := s.confirmationCode(s.now(), n)
		u := *s.statusURL
		q := u.Query()
		q.Set("code", code)
		u.RawQuery = q.Encode()
		s.log.LogAttrs(ctx, slog.LevelInfo, "channel: data deleted", slog.Int("page_scoped_ids", len(ids)-1),
			slog.Int("visitors", n), slog.String("confirmation_code", code))
		writeJSON(w, http.StatusOK, map[string]string{"url": u.String(), "confirmation_code": code})
	})
}

// DeletionStatusHandler serves the status page of data-deletion requests
// at Config.DeletionStatusURL: GET ?code=... answers JSON
// {"confirmation_code", "status": "completed", "requested_at", "visitors"}
// or 404 for a code this service did not issue.
func (s *Service) DeletionStatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		st, err := s.DeletionStatusOf(r.URL.Query().Get("code"))
		if err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown confirmation code"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"confirmation_code": st.ConfirmationCode,
			"status":            "completed",
			"requested_at":      st.RequestedAt.Format(time.RFC3339),
			"visitors":          st.Visitors,
		})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
