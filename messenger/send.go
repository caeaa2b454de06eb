package messenger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"path/filepath"
	"sync"
)

// MessagingType is the messaging_type of a send.
type MessagingType string

// Messaging types. The zero value means Response.
const (
	// Response answers a message the person sent within 24 hours.
	Response MessagingType = "RESPONSE"
	// Update is a message the Page sends on its own initiative, within 24
	// hours of the person's last message.
	Update MessagingType = "UPDATE"
	// MessageTag is a tagged message, allowed outside the 24-hour window
	// for the tag's purpose only; Tag must be set.
	MessageTag MessagingType = "MESSAGE_TAG"
)

// Tag is the message tag of a MessageTag send.
type Tag string

// HumanAgent lets a human agent answer up to 7 days after the person's
// last message (the app needs the Human Agent permission).
const HumanAgent Tag = "HUMAN_AGENT"

// AttachmentType is the kind of an attachment.
type AttachmentType string

// Attachment types.
const (
	AttachmentImage AttachmentType = "image"
	AttachmentVideo AttachmentType = "video"
	AttachmentAudio AttachmentType = "audio"
	AttachmentFile  AttachmentType = "file"
)

func (t AttachmentType) valid() bool {
	switch t {
	case AttachmentImage, AttachmentVideo, AttachmentAudio, AttachmentFile:
		return true
	}
	return false
}

// Attachment is a file sent by URL (Facebook fetches it; Reusable asks
// for an id to send it again, see SendResult.AttachmentID) or by the id
// of a reusable attachment (from Upload or an earlier reusable send).
// Exactly one of URL and ID is set.
type Attachment struct {
	Type     AttachmentType
	URL      string
	ID       string
	Reusable bool
}

// QuickReply is a button under a message; tapping it sends Title back
// with Payload.
type QuickReply struct {
	Title    string // at most 20 characters
	Payload  string // at most 1,000 characters
	ImageURL string // optional icon
}

// OutgoingMessage is a message from the Page to one person: Text or an
// Attachment (not both), optional quick replies.
type OutgoingMessage struct {
	Recipient    string // the person's page-scoped id (PSID)
	Text         string // at most MaxTextChars characters (RULE-1)
	Attachment   *Attachment
	QuickReplies []QuickReply
	Type         MessagingType // zero means Response
	Tag          Tag           // with Type MessageTag
	Metadata     string        // echoed back in the message_echoes webhook
}

// SendResult is Facebook's answer to a send.
type SendResult struct {
	MessageID   string
	RecipientID string
	// AttachmentID is the id of a reusable attachment sent by URL with
	// Reusable set, to send it again by ID.
	AttachmentID string
}

// Wire shapes of the Send API.
type (
	sendRequest struct {
		Recipient     recipient    `json:"recipient"`
		MessagingType string       `json:"messaging_type,omitempty"`
		Tag           string       `json:"tag,omitempty"`
		Message       *wireMessage `json:"message,omitempty"`
		SenderAction  string       `json:"sender_action,omitempty"`
	}
	recipient struct {
		ID string `json:"id"`
	}
	wireMessage struct {
		Text         string           `json:"text,omitempty"`
		Attachment   *wireAttachment  `json:"attachment,omitempty"`
		QuickReplies []wireQuickReply `json:"quick_replies,omitempty"`
		Metadata     string           `json:"metadata,omitempty"`
	}
	wireAttachment struct {
		Type    string      `json:"type"`
		Payload wirePayload `json:"payload"`
	}
	wirePayload struct {
		URL          string `json:"url,omitempty"`
		IsReusable   bool   `json:"is_reusable,omitempty"`
		AttachmentID string `json:"attachment_id,omitempty"`
	}
	wireQuickReply struct {
		ContentType string `json:"content_type"`
		Title       string `json:"title,omitempty"`
		Payload     string `json:"payload,omitempty"`
		ImageURL    string `json:"image_url,omitempty"`
	}
	sendResponse struct {
		RecipientID  string `json:"recipient_id"`
		MessageID    string `json:"message_id"`
		AttachmentID string `json:"attachment_id"`
	}
)

// Send sends a message as the Page (POST /{page-id}/messages) after
// ValidateOutgoing. It is retried only when the request certainly never
// reached Facebook; an error that wraps ErrMaybeDelivered means the person
// may have received it. There is no recall (RULE-2).
func (p *Page) Send(ctx context.Context, m OutgoingMessage) (SendResult, error) {
	if err := ValidateOutgoing(m); err != nil {
		return SendResult{}, err
	}
	token, err := p.token()
	if err != nil {
		return SendResult{}, err
	}
	t := m.Type
	if t == "" {
		t = Response
	}
	req := sendRequest{
		Recipient:     recipient{ID: m.Recipient},
		MessagingType: string(t),
		Tag:           string(m.Tag),
		Message:       &wireMessage{Text: m.Text, Metadata: m.Metadata},
	}
	if a := m.Attachment; a != nil {
		req.Message.Attachment = &wireAttachment{Type: string(a.Type),
			Payload: wirePayload{URL: a.URL, IsReusable: a.Reusable, AttachmentID: a.ID}}
	}
	if len(m.QuickReplies) > 0 {
		req.Message.QuickReplies = make([]wireQuickReply, len(m.QuickReplies))
		for i, q := range m.QuickReplies {
			req.Message.QuickReplies[i] = wireQuickReply{ContentType: "text", Title: q.Title, Payload: q.Payload, ImageURL: q.ImageURL}
		}
	}
	body, err := jsonBody(req)
	if err != nil {
		return SendResult{}, fmt.Errorf("messenger: encoding the message: %w", err)
	}
	var out sendResponse
	err = p.c.do(ctx, &call{
		method: "POST", path: "/" + pathID(p.id) + "/messages",
		token: token, proof: p.proof(token),
		body: body, rewindable: true, send: true,
		page: p, out: &out, logKey: p.id,
	})
	if err != nil {
		return SendResult{}, err
	}
	return SendResult{MessageID: out.MessageID, RecipientID: out.RecipientID, AttachmentID: out.AttachmentID}, nil
}

// SenderAction is a typing indicator or read receipt.
type SenderAction string

// Sender actions.
const (
	TypingOn  SenderAction = "typing_on"
	TypingOff SenderAction = "typing_off"
	MarkSeen  SenderAction = "mark_seen"
)

// SenderAction shows a typing indicator or marks the person's messages
// seen. Repeating one is harmless, so it is retried like a read.
func (p *Page) SenderAction(ctx context.Context, psid string, a SenderAction) error {
	if psid == "" {
		return errRequired("psid")
	}
	switch a {
	case TypingOn, TypingOff, MarkSeen:
	default:
		return &ValidationError{Field: "SenderAction", Reason: "is " + quote(string(a)) +
			"; want typing_on, typing_off or mark_seen", Err: ErrInvalidMessage}
	}
	token, err := p.token()
	if err != nil {
		return err
	}
	body, err := jsonBody(sendRequest{Recipient: recipient{ID: psid}, SenderAction: string(a)})
	if err != nil {
		return err
	}
	return p.c.do(ctx, &call{
		method: "POST", path: "/" + pathID(p.id) + "/messages",
		token: token, proof: p.proof(token),
		body: body, rewindable: true,
		page: p, out: &sendResponse{}, logKey: p.id,
	})
}

// Upload is a file to upload as a reusable attachment.
type Upload struct {
	Type AttachmentType
	// Filename names the file for the person; empty means "attachment".
	Filename string
	// ContentType is the MIME type; empty means the type of Filename's
	// extension, or application/octet-stream.
	ContentType string
	// Size is the length of Body in bytes if known (0 if not). A Size over
	// MaxFileBytes is refused with ErrTooLarge before any request, and so
	// is a Body whose remaining length (from its current position) can be
	// learnt without reading it and is over MaxFileBytes: one with a
	// Len() int method (*bytes.Reader, *strings.Reader, *bytes.Buffer), a
	// regular *os.File, any other io.Seeker (sought to its end, then back
	// to where it was). Any other Body longer than MaxFileBytes is refused
	// with ErrTooLarge as soon as the limit is passed while it streams.
	Size int64
	// Body is the file. If it is an io.Seeker, a failed upload can be
	// retried from its current offset.
	Body io.Reader
}

// Upload uploads a file (multipart POST /{page-id}/message_attachments)
// and returns the id of the reusable attachment, to send with
// Attachment{Type: u.Type, ID: id}. Uploading twice only makes two
// attachments, so a failed upload is retried like a read when Body can be
// rewound.
func (p *Page) Upload(ctx context.Context, u Upload) (attachmentID string, err error) {
	if err := validateUpload(u); err != nil {
		return "", err
	}
	if err := checkUploadLength(u.Body); err != nil {
		return "", err
	}
	token, err := p.token()
	if err != nil {
		return "", err
	}
	filename := u.Filename
	if filename == "" {
		filename = "attachment"
	}
	ctype := u.ContentType
	if ctype == "" {
		ctype = mime.TypeByExtension(filepath.Ext(filename))
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	msg, err := json.Marshal(map[string]any{"attachment": wireAttachment{Type: string(u.Type), Payload: wirePayload{IsReusable: true}}})
	if err != nil {
		return "", err
	}

	seeker, rewindable := u.Body.(io.Seeker)
	var start int64
	if rewindable {
		if start, err = seeker.Seek(0, io.SeekCurrent); err != nil {
			rewindable = false
		}
	}
	// Each attempt streams the file through a pipe from a goroutine; the
	// goroutine is always finished before the next attempt and before
	// Upload returns, so Body is never read after Upload returned.
	var (
		mu       sync.Mutex
		tooLarge error
		attempts int
		pr       *io.PipeReader
		done     chan struct{}
	)
	finish := func() {
		if pr != nil {
			pr.CloseWithError(errUploadEnded)
			<-done
		}
	}
	body := func() (io.Reader, string, error) {
		finish()
		attempts++
		if attempts > 1 {
			if _, err := seeker.Seek(start, io.SeekStart); err != nil {
				return nil, "", fmt.Errorf("rewinding the upload: %w", err)
			}
		}
		var pw *io.PipeWriter
		pr, pw = io.Pipe()
		done = make(chan struct{})
		mw := multipart.NewWriter(pw)
		go func(done chan struct{}) {
			defer close(done)
			err := writeUpload(mw, msg, filename, ctype, u.Body)
			if ve, ok := err.(*ValidationError); ok {
				mu.Lock()
				tooLarge = ve
				mu.Unlock()
			}
			pw.CloseWithError(err)
		}(done)
		return pr, mw.FormDataContentType(), nil
	}
	var out struct {
		AttachmentID string `json:"attachment_id"`
	}
	err = p.c.do(ctx, &call{
		method: "POST", path: "/" + pathID(p.id) + "/message_attachments",
		token: token, proof: p.proof(token),
		body: body, rewindable: rewindable,
		page: p, out: &out, logKey: p.id,
	})
	finish()
	mu.Lock()
	defer mu.Unlock()
	if tooLarge != nil {
		return "", tooLarge
	}
	if err != nil {
		return "", err
	}
	if out.AttachmentID == "" {
		return "", fmt.Errorf("messenger: POST /%s/%s/message_attachments: the answer has no attachment_id", p.c.version, p.id)
	}
	return out.AttachmentID, nil
}

var errUploadEnded = errors.New("messenger: upload attempt ended")

// writeUpload writes the multipart body: the message field, then the file
// as filedata, refusing more than MaxFileBytes.
func writeUpload(mw *multipart.Writer, msg []byte, filename, ctype string, body io.Reader) error {
	if err := mw.WriteField("message", string(msg)); err != nil {
		return err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "filedata", "filename": filename}))
	h.Set("Content-Type", ctype)
	part, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	n, err := io.Copy(part, io.LimitReader(body, MaxFileBytes+1))
	if err != nil {
		return fmt.Errorf("reading the upload: %w", err)
	}
	if n > MaxFileBytes {
		return &ValidationError{Field: "Upload.Body", Limit: MaxFileBytes, Actual: n,
			Reason: "is more than 25,000,000 bytes, the limit (RULE-3: 25 MB, 1 MB = 10^6 bytes)", Err: ErrTooLarge}
	}
	return mw.Close()
}
