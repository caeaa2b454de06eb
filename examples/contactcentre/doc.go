// Command contactcentre is a small but real contact-centre backend built on
// PageDesk: the Messenger webhook, the Facebook Login flow that connects
// Pages, a staff JSON API with live updates over Server-Sent Events, and a
// minimal staff console in the browser.
//
// Try it offline, with a fake Facebook and a simulated visitor:
//
//	go run ./examples/contactcentre -demo
//
// Run it for real (see README.md, "Facebook app setup"):
//
//	PAGEDESK_APP_ID=... PAGEDESK_APP_SECRET=... PAGEDESK_VERIFY_TOKEN=... \
//	go run ./examples/contactcentre -base-url https://desk.example.com -postgres "$DSN"
//
// The staff API trusts the X-Staff-ID header: put your own authentication in
// front of it (see authStaff in api.go) before you let anyone reach it.
package main
