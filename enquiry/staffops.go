package enquiry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"strings"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
)

// lookupStaff returns a staff member of a service from the directory.
func (s *Service) lookupStaff(ctx context.Context, serviceID, staffID string) (Staff, error) {
	if staffID == "" {
		return Staff{}, fmt.Errorf("%w: the staff id is empty", ErrUnknownStaff)
	}
	found, err := s.staff.Lookup(ctx, serviceID, []string{staffID})
	if err != nil {
		return Staff{}, fmt.Errorf("enquiry: staff directory: %w", err)
	}
	for _, st := range found {
		if st.ID == staffID {
			return st, nil
		}
	}
	return Staff{}, fmt.Errorf("%w: %s is not staff of service %s", ErrUnknownStaff, staffID, serviceID)
}

// Take gives an open enquiry to a staff member (ENQ-2). It is a
// compare-and-set across every process: when several staff take the same
// enquiry at once exactly one wins, and the others get a *TakenError naming
// the winner. Taking an enquiry one already holds returns it unchanged.
//
// RULE-4: when the service already has MaxServing enquiries taken, Take
// fails with a *LimitError (errors.Is ErrServingLimit); the count and the
// take are one atomic step in the store.
//
// The staff member must be known to the directory in the enquiry's service
// (ErrUnknownStaff otherwise).
func (s *Service) Take(ctx context.Context, enquiryID, staffID string) (*store.Enquiry, error) {
	enq, err := s.enquiry(ctx, enquiryID)
	if err != nil {
		return nil, err
	}
	switch {
	case enq.Status == store.EnquiryClosed:
		return nil, closedErr(enq.ID)
	case enq.Status == store.EnquiryTaken && enq.StaffID == staffID:
		return enq, nil
	case enq.Status == store.EnquiryTaken:
		return nil, &TakenError{EnquiryID: enq.ID, StaffID: enq.StaffID}
	}
	if _, err := s.lookupStaff(ctx, enq.ServiceID, staffID); err != nil {
		return nil, err
	}
	taken, err := s.store.Take(ctx, enq.ID, staffID, s.maxServing, s.now())
	if err != nil {
		var te *store.TakenError
		switch {
		case errors.As(err, &te):
			if te.StaffID == staffID {
				return s.enquiry(ctx, enq.ID)
			}
			return nil, &TakenError{EnquiryID: enq.ID, StaffID: te.StaffID}
		case errors.Is(err, store.ErrClosed):
			return nil, closedErr(enq.ID)
		case errors.Is(err, store.ErrLimit):
			return nil, &LimitError{ServiceID: enq.ServiceID, Limit: s.maxServing}
		}
		return nil, fmt.Errorf("enquiry: taking %s: %w", enq.ID, err)
	}
	s.notify(ctx, Notice{Kind: NoticeTaken, ServiceID: taken.ServiceID, ChannelID: taken.ChannelID,
		Enquiry: enquiryCopy(taken), StaffID: staffID})
	return taken, nil
}

// Transfer moves an enquiry that from holds to another staff member of the
// service. It fails with a *NotHolderError if from does not hold it (any
// more), ErrClosed if it is closed and ErrUnknownStaff if the directory
// does not know to.
func (s *Service) Transfer(ctx context.Context, enquiryID, from, to string) (*store.Enquiry, error) {
	enq, err := s.enquiry(ctx, enquiryID)
	if err != nil {
		return nil, err
	}
	if enq.Status == store.EnquiryClosed {
		return nil, closedErr(enq.ID)
	}
	if enq.Status != store.EnquiryTaken || enq.StaffID != from {
		return nil, &NotHolderError{EnquiryID: enq.ID, StaffID: from, Holder: holder(enq)}
	}
	if from == to {
		return enq, nil
	}
	if _, err := s.lookupStaff(ctx, enq.ServiceID, to); err != nil {
		return nil, err
	}
	moved, err := s.store.Transfer(ctx, enq.ID, from, to)
	if err != nil {
		switch {
		case errors.Is(err, store.ErrClosed):
			return nil, closedErr(enq.ID)
		case errors.Is(err, store.ErrConflict):
			cur, lerr := s.enquiry(ctx, enq.ID)
			if lerr != nil {
				return nil, lerr
			}
			return nil, &NotHolderError{EnquiryID: enq.ID, StaffID: from, Holder: holder(cur)}
		}
		return nil, fmt.Errorf("enquiry: transferring %s: %w", enq.ID, err)
	}
	s.notify(ctx, Notice{Kind: NoticeTransferred, ServiceID: moved.ServiceID, ChannelID: moved.ChannelID,
		Enquiry: enquiryCopy(moved), StaffID: to, FromStaffID: from})
	return moved, nil
}

func holder(e *store.Enquiry) string {
	if e.Status == store.EnquiryTaken {
		return e.StaffID
	}
	return ""
}

// Close closes an enquiry; staffID is who closes it (empty for the host or
// the system). Then the close auto-reply goes out if it is on (ENQ-3),
// naming the staff member who served the visitor in the channel's
// display-name format (CHAN-4), unless the channel is paused or
// disconnected, the visitor's 24-hour window has passed, or the visitor
// has written again since the enquiry closed (their message opened a new
// enquiry, which a goodbye would only confuse). Once that message is
// recorded, its fate (sent, failed, uncertain) is recorded on it, logged
// and notified, never returned as an error.
//
// Close is idempotent: closing an enquiry that is already closed returns
// it with a nil error, whoever closed it, and reports NoticeClosed again
// (notices are at least once). So a Close that failed is simply tried
// again, also when the store closed the enquiry and only its answer was
// lost: the retry still sees to the close auto-reply, which goes out at
// most once however often Close is called (it is recorded under an id
// derived from the enquiry, which the store refuses twice). For the same
// reason an error is returned when the store fails before the close
// auto-reply is recorded, though the enquiry is closed: calling Close
// again finishes the work.
func (s *Service) Close(ctx context.Context, enquiryID, staffID string) (*store.Enquiry, error) {
	enq, err := s.enquiry(ctx, enquiryID)
	if err != nil {
		return nil, err
	}
	closed := enq
	if enq.Status != store.EnquiryClosed {
		closed, err = s.store.Close(ctx, enq.ID, s.now())
		if errors.Is(err, store.ErrClosed) {
			// Closed meanwhile, by another call: the same as closed before.
			closed, err = s.enquiry(ctx, enq.ID)
		}
		if err != nil {
			return nil, fmt.Errorf("enquiry: closing %s: %w", enq.ID, err)
		}
	}
	// Announced again when already closed: the call that closed it may
	// have failed before it could announce it (its answer lost).
	s.notify(ctx, Notice{Kind: NoticeClosed, ServiceID: closed.ServiceID, ChannelID: closed.ChannelID,
		Enquiry: enquiryCopy(closed), StaffID: staffID})
	// Seen to on every call, not only by the call that closed it: that
	// call may have failed before the reply was recorded.
	if err := s.closeReply(ctx, closed, staffID); err != nil {
		return nil, fmt.Errorf("enquiry: %s is closed, but its close auto-reply was not handled (close it again): %w", closed.ID, err)
	}
	return closed, nil
}

// closeReply sends the close auto-reply of a closed enquiry, unless it was
// already recorded (by an earlier Close). A store failure is returned.
func (s *Service) closeReply(ctx context.Context, enq *store.Enquiry, closer string) error {
	ch, err := s.channel(ctx, enq.ChannelID)
	if err != nil {
		return err
	}
	if ch.Status != store.ChannelActive {
		return nil
	}
	if _, on := ch.AutoReply.Text(autoreply.Close); !on {
		return nil
	}
	if ch.UpdatedAt.After(enq.ClosedAt) {
		// The channel changed since the close (resumed, its close reply
		// switched on): whether the close sent a goodbye then is not
		// known from here, and a late one the close rightly skipped would
		// be wrong. A Close repeated at once, as a failed one is, finds
		// the channel as it was.
		return nil
	}
	var staff *Staff
	named := enq.StaffID
	if named == "" {
		named = closer
	}
	if named != "" && ch.AutoReply.NameFormat != autoreply.NameNone {
		st, err := s.lookupStaff(ctx, enq.ServiceID, named)
		if err == nil {
			staff = &st
		} else {
			s.log.LogAttrs(ctx, slog.LevelWarn, "enquiry: close auto-reply: staff member not found; not named",
				slog.String("enquiry", enq.ID), slog.String("error", err.Error()))
		}
	}
	visitor, err := s.store.Visitor(ctx, ch.ID, enq.PSID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if visitor != nil && visitor.LastInboundAt.After(enq.ClosedAt) {
		// They wrote since the close (a Close tried again late): their
		// message opened a new enquiry, and this one's goodbye is stale.
		return nil
	}
	return s.autoReply(ctx, ch, enq, autoreply.Close, s.values(ch, visitor, staff), "close", enq.ID)
}

// prepare checks, before any Graph call, that staffID may send to the
// visitor of an enquiry now: the enquiry is open and held by staffID, the
// channel is active, and the visitor's messaging window is open (RULE-5).
// It returns how the message must be sent.
func (s *Service) prepare(ctx context.Context, enquiryID, staffID string) (*store.Enquiry, *store.Channel, messenger.MessagingType, messenger.Tag, error) {
	enq, err := s.enquiry(ctx, enquiryID)
	if err != nil {
		return nil, nil, "", "", err
	}
	if enq.Status == store.EnquiryClosed {
		return nil, nil, "", "", closedErr(enq.ID)
	}
	if enq.Status != store.EnquiryTaken || enq.StaffID != staffID {
		return nil, nil, "", "", &NotHolderError{EnquiryID: enq.ID, StaffID: staffID, Holder: holder(enq)}
	}
	ch, err := s.channel(ctx, enq.ChannelID)
	if err != nil {
		return nil, nil, "", "", err
	}
	if err := sendable(ch); err != nil {
		return nil, nil, "", "", err
	}
	typ, tag, err := judgeWindow(ch, enq.LastInboundAt, s.now(), true)
	if err != nil {
		return nil, nil, "", "", err
	}
	return enq, ch, typ, tag, nil
}

// Reply sends a staff member's text to the visitor of an enquiry they hold.
// Every rule is checked before any Graph call, each with its own error:
// RULE-1 (*TooLongError, more than 2,000 characters), RULE-5 (*WindowError:
// more than 24 hours since the visitor's last message, or 7 days with the
// HUMAN_AGENT tag on a channel that opted in), a paused or disconnected
// channel (*ChannelError), an enquiry the staff member does not hold
// (*NotHolderError) or that is closed (ErrClosed).
//
// The message is recorded as pending before it is sent, then as sent,
// failed (*SendError) or uncertain (*SendError, errors.Is ErrUncertain: it
// is never sent again). A send that shows the connection lost its rights
// on the Page disconnects the channel (CONN-7) and returns a *ChannelError
// saying why. Facebook refusing the send for the window returns a
// *WindowError. The returned message is the recorded one, also with an
// error when the send failed after it was recorded.
//
// There is no recall (RULE-2): a sent message cannot be taken back.
func (s *Service) Reply(ctx context.Context, enquiryID, staffID, text string) (*store.Message, error) {
	if err := checkText(text); err != nil {
		return nil, err
	}
	enq, ch, typ, tag, err := s.prepare(ctx, enquiryID, staffID)
	if err != nil {
		return nil, err
	}
	return s.send(ctx, outbound{
		ch:  ch,
		enq: enq,
		msg: store.Message{ID: s.newID(), Author: store.AuthorStaff, StaffID: staffID, Text: text},
		out: messenger.OutgoingMessage{Text: text, Type: typ, Tag: tag},
	})
}

// File is a file a staff member sends.
type File struct {
	// Name is the file's name, as the visitor sees it.
	Name string
	// ContentType is its MIME type, e.g. "image/png".
	ContentType string
	// Type is how Messenger shows it; empty means by ContentType (image,
	// video, audio, otherwise file).
	Type messenger.AttachmentType
	// Size is its length in bytes; required, at most 25,000,000 (RULE-3).
	Size int64
	// Body is read once, up to Size bytes; a body longer than Size is refused.
	Body io.Reader
}

// ReplyFile sends a file to the visitor of an enquiry the staff member
// holds: uploaded to Facebook, then sent by its attachment id. RULE-3 is
// checked before any Graph call (*TooLargeError over 25,000,000 bytes), as
// are the rules of Reply; the body is also cut off if it runs past Size.
func (s *Service) ReplyFile(ctx context.Context, enquiryID, staffID string, f File) (*store.Message, error) {
	switch {
	case f.Size > messenger.MaxFileBytes:
		return nil, &TooLargeError{Name: f.Name, Size: f.Size, Limit: messenger.MaxFileBytes}
	case f.Size <= 0 || f.Body == nil:
		return nil, fmt.Errorf("%w: file %q has no content (Size %d)", ErrEmpty, f.Name, f.Size)
	case strings.TrimSpace(f.Name) == "":
		return nil, fmt.Errorf("%w: the file has no name", messenger.ErrInvalidMessage)
	}
	typ := f.Type
	if typ == "" {
		typ = attachmentType(f.ContentType)
	}
	enq, ch, mtyp, tag, err := s.prepare(ctx, enquiryID, staffID)
	if err != nil {
		return nil, err
	}
	return s.send(ctx, outbound{
		ch:  ch,
		enq: enq,
		msg: store.Message{ID: s.newID(), Author: store.AuthorStaff, StaffID: staffID,
			Attachments: []store.Attachment{{Type: string(typ), Name: f.Name, Size: f.Size}}},
		out: messenger.OutgoingMessage{Attachment: &messenger.Attachment{Type: typ}, Type: mtyp, Tag: tag},
		up: &messenger.Upload{Type: typ, Filename: f.Name, ContentType: f.ContentType, Size: f.Size,
			Body: &sizedReader{r: f.Body, left: f.Size, name: f.Name, size: f.Size}},
	})
}

// attachmentType picks how Messenger shows a file of a MIME type.
func attachmentType(contentType string) messenger.AttachmentType {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return messenger.AttachmentFile
	}
	switch {
	case strings.HasPrefix(mt, "image/"):
		return messenger.AttachmentImage
	case strings.HasPrefix(mt, "video/"):
		return messenger.AttachmentVideo
	case strings.HasPrefix(mt, "audio/"):
		return messenger.AttachmentAudio
	}
	return messenger.AttachmentFile
}

// sizedReader reads at most the declared size and fails if the body holds
// more, so a wrong Size can never carry a file past RULE-3.
type sizedReader struct {
	r    io.Reader
	left int64
	name string
	size int64
}

func (r *sizedReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		// At the declared end: the body must end too.
		var one [1]byte
		n, err := r.r.Read(one[:])
		if n > 0 {
			if r.size >= messenger.MaxFileBytes {
				return 0, &TooLargeError{Name: r.name, Size: r.size + 1, Limit: messenger.MaxFileBytes}
			}
			return 0, fmt.Errorf("%w: file %q holds more than its declared %d bytes", messenger.ErrInvalidMessage, r.name, r.size)
		}
		if err == nil {
			return 0, nil
		}
		return 0, err
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.r.Read(p)
	r.left -= int64(n)
	if err == io.EOF && r.left > 0 {
		return n, fmt.Errorf("enquiry: file %q ended after %d of its %d bytes: %w", r.name, r.size-r.left, r.size, io.ErrUnexpectedEOF)
	}
	return n, err
}
