package messenger

import (
	"context"
	"fmt"
	"strings"
)

// Profile is the public profile of a person, as the Page sees it.
type Profile struct {
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	ProfilePic string `json:"profile_pic"` // a URL that expires
}

type fieldsQuery struct {
	Fields string `url:"fields,omitempty"`
}

// Profile reads the first name, last name and profile picture of the
// person with page-scoped id psid (GET /{psid}).
func (p *Page) Profile(ctx context.Context, psid string) (Profile, error) {
	if psid == "" {
		return Profile{}, errRequired("psid")
	}
	token, err := p.token()
	if err != nil {
		return Profile{}, err
	}
	var out Profile
	err = p.c.do(ctx, &call{
		method: "GET", path: "/" + pathID(psid),
		query: fieldsQuery{Fields: "first_name,last_name,profile_pic"},
		token: token, proof: p.proof(token),
		page: p, out: &out, logKey: p.id,
	})
	return out, err
}

// AppSubscription is an app subscribed to a Page's webhooks, with the
// fields it receives.
type AppSubscription struct {
	AppID  string
	Fields []string
}

type subscribeForm struct {
	SubscribedFields string `url:"subscribed_fields"`
}

type successResponse struct {
	Success bool `json:"success"`
}

// Subscribe subscribes this app to the Page's webhooks for fields (for
// example "messages", "messaging_postbacks"): POST
// /{page-id}/subscribed_apps. It replaces the fields subscribed before.
func (p *Page) Subscribe(ctx context.Context, fields []string) error {
	if len(fields) == 0 {
		return &ValidationError{Field: "fields", Reason: "is empty; name at least one webhook field, e.g. messages", Err: ErrEmpty}
	}
	for i, f := range fields {
		if f == "" || strings.ContainsAny(f, ", ") {
			return &ValidationError{Field: fmt.Sprintf("fields[%d]", i), Reason: "is " + quote(f) + "; want a webhook field name", Err: ErrInvalidMessage}
		}
	}
	token, err := p.token()
	if err != nil {
		return err
	}
	form, err := formValues(subscribeForm{SubscribedFields: strings.Join(fields, ",")})
	if err != nil {
		return err
	}
	var out successResponse
	if err := p.c.do(ctx, &call{
		method: "POST", path: "/" + pathID(p.id) + "/subscribed_apps",
		token: token, proof: p.proof(token),
		body: formBody(form), rewindable: true,
		page: p, out: &out, logKey: p.id,
	}); err != nil {
		return err
	}
	if !out.Success {
		return fmt.Errorf("messenger: POST /%s/%s/subscribed_apps: Facebook answered success false", p.c.version, p.id)
	}
	return nil
}

// Unsubscribe removes this app's webhook subscription from the Page:
// DELETE /{page-id}/subscribed_apps.
func (p *Page) Unsubscribe(ctx context.Context) error {
	token, err := p.token()
	if err != nil {
		return err
	}
	var out successResponse
	if err := p.c.do(ctx, &call{
		method: "DELETE", path: "/" + pathID(p.id) + "/subscribed_apps",
		token: token, proof: p.proof(token),
		page: p, out: &out, logKey: p.id,
	}); err != nil {
		return err
	}
	if !out.Success {
		return fmt.Errorf("messenger: DELETE /%s/%s/subscribed_apps: Facebook answered success false", p.c.version, p.id)
	}
	return nil
}

// Subscriptions lists the apps subscribed to the Page's webhooks, with
// their fields: GET /{page-id}/subscribed_apps.
func (p *Page) Subscriptions(ctx context.Context) ([]AppSubscription, error) {
	token, err := p.token()
	if err != nil {
		return nil, err
	}
	var out struct {
		Data []struct {
			ID               string   `json:"id"`
			SubscribedFields []string `json:"subscribed_fields"`
		} `json:"data"`
	}
	if err := p.c.do(ctx, &call{
		method: "GET", path: "/" + pathID(p.id) + "/subscribed_apps",
		token: token, proof: p.proof(token),
		page: p, out: &out, logKey: p.id,
	}); err != nil {
		return nil, err
	}
	subs := make([]AppSubscription, 0, len(out.Data))
	for _, d := range out.Data {
		subs = append(subs, AppSubscription{AppID: d.ID, Fields: d.SubscribedFields})
	}
	return subs, nil
}
