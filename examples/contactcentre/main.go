package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "contactcentre:", err)
		}
		os.Exit(1)
	}
}

// config is everything the contact centre is told at start.
type config struct {
	Listen      string
	ListenSet   bool   // -listen or PAGEDESK_LISTEN was given
	BaseURL     string // the public https address Facebook calls
	AppID       string
	AppSecret   string
	VerifyToken string
	Postgres    string // PostgreSQL DSN; empty means memstore
	Schema      string // PostgreSQL schema; empty means sqlstore's default
	ServiceID   string
	Staff       []staffMember
	MaxServing  int // RULE-4
	Demo        bool
	DemoAuto    bool // the demo's visitors write by themselves
	LogLevel    slog.Level
	ShutdownIn  time.Duration
}

// parseConfig reads flags, each defaulting to its environment variable.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("contactcentre", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.Listen, "listen", env("PAGEDESK_LISTEN", "127.0.0.1:8080"), "`address` to listen on (PAGEDESK_LISTEN)")
	fs.StringVar(&c.BaseURL, "base-url", env("PAGEDESK_BASE_URL", ""), "public `URL` Facebook reaches this server at, e.g. https://desk.example.com (PAGEDESK_BASE_URL); default http://<listen address>")
	fs.StringVar(&c.AppID, "app-id", env("PAGEDESK_APP_ID", ""), "Facebook app `id` (PAGEDESK_APP_ID)")
	fs.StringVar(&c.AppSecret, "app-secret", env("PAGEDESK_APP_SECRET", ""), "Facebook app `secret` (PAGEDESK_APP_SECRET; prefer the variable: flags show in ps)")
	fs.StringVar(&c.VerifyToken, "verify-token", env("PAGEDESK_VERIFY_TOKEN", ""), "webhook verify `token` (PAGEDESK_VERIFY_TOKEN)")
	fs.StringVar(&c.Postgres, "postgres", env("PAGEDESK_POSTGRES", ""), "PostgreSQL `DSN` (PAGEDESK_POSTGRES); empty keeps everything in memory")
	fs.StringVar(&c.Schema, "postgres-schema", env("PAGEDESK_POSTGRES_SCHEMA", ""), "PostgreSQL `schema` holding the tables (PAGEDESK_POSTGRES_SCHEMA); default sqlstore's")
	fs.StringVar(&c.ServiceID, "service", env("PAGEDESK_SERVICE", "default"), "the service (tenant) `id` this process serves (PAGEDESK_SERVICE)")
	staff := fs.String("staff", env("PAGEDESK_STAFF", "amy:Amy:Wong:en,wing:Wing:Chan:zh-Hant"), "staff `list`: id:first:last:language, comma-separated (PAGEDESK_STAFF)")
	fs.IntVar(&c.MaxServing, "max-serving", 200, "most visitors the service serves at once (RULE-4)")
	fs.BoolVar(&c.Demo, "demo", false, "run offline against a fake Facebook with a demo Page and a simulated visitor")
	fs.BoolVar(&c.DemoAuto, "demo-auto", true, "with -demo: visitors write by themselves (at start and after each staff reply); false: only when the console's buttons say so")
	logLevel := fs.String("log-level", env("PAGEDESK_LOG_LEVEL", "info"), "`level` of the logs: debug, info, warn, error")
	fs.DurationVar(&c.ShutdownIn, "shutdown-timeout", 20*time.Second, "how long in-flight requests get to finish on SIGINT/SIGTERM")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.ListenSet = getenv("PAGEDESK_LISTEN") != ""
	fs.Visit(func(f *flag.Flag) { c.ListenSet = c.ListenSet || f.Name == "listen" })
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if err := c.LogLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return c, fmt.Errorf("-log-level: %w", err)
	}
	var err error
	if c.Staff, err = parseStaff(*staff); err != nil {
		return c, err
	}
	if c.Demo {
		// The demo brings its own fake Facebook; it needs no settings.
		return c, nil
	}
	for _, v := range []struct{ flag, env, value string }{
		{"-app-id", "PAGEDESK_APP_ID", c.AppID},
		{"-app-secret", "PAGEDESK_APP_SECRET", c.AppSecret},
		{"-verify-token", "PAGEDESK_VERIFY_TOKEN", c.VerifyToken},
	} {
		if v.value == "" {
			return c, fmt.Errorf("missing %s: set the environment variable %s or the flag %s (or try -demo)", strings.TrimPrefix(v.flag, "-"), v.env, v.flag)
		}
	}
	return c, nil
}

// parseStaff reads "id:first:last:language,...".
func parseStaff(s string) ([]staffMember, error) {
	var out []staffMember
	seen := map[string]bool{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		f := strings.Split(item, ":")
		if len(f) != 4 || f[0] == "" {
			return nil, fmt.Errorf("-staff: %q is not id:first:last:language", item)
		}
		if f[3] != langEnglish && f[3] != langChinese {
			return nil, fmt.Errorf("-staff: %q: language %q is neither %s nor %s", item, f[3], langEnglish, langChinese)
		}
		if seen[f[0]] {
			return nil, fmt.Errorf("-staff: id %q appears twice", f[0])
		}
		seen[f[0]] = true
		out = append(out, staffMember{ID: f[0], FirstName: f[1], LastName: f[2], Language: f[3]})
	}
	if len(out) == 0 {
		return nil, errors.New("-staff: at least one staff member is needed")
	}
	return out, nil
}
