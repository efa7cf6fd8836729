package suivi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	netmail "net/mail"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// SMTP is how the report reaches the gestionnaires: the SMTP server, its
// credentials and the sender. [SMTPFromEnv] reads it from the
// environment:
//
//	SMTP_HOST      the server's host name (required)
//	SMTP_PORT      its port; default 587 with starttls, 465 with tls, 25 with none
//	SMTP_TLS       starttls (default: STARTTLS required, the connection
//	               fails without it), tls (implicit TLS, "SMTPS"), or none
//	               (plain text: only for a relay on the same host or network)
//	SMTP_USERNAME  the login, when the server wants one; with SMTP_PASSWORD.
//	               The mechanism is negotiated (SCRAM, CRAM-MD5, PLAIN, LOGIN…),
//	               and a password is never sent in clear: over SMTP_TLS=none
//	               only challenge mechanisms (SCRAM, CRAM-MD5, NTLM) are used
//	SMTP_PASSWORD  the password
//	SMTP_FROM      the sender's address, e.g. "Connecteur Aglaé <aglae@univ.fr>" (required)
//	SMTP_CA_FILE   a PEM bundle that signs the server's certificate, when it
//	               is not a public CA (an internal relay); default: the system's
//
// The report holds identifiers of students (INE): prefer starttls or tls.
type SMTP struct {
	Host     string
	Port     int
	TLS      string // starttls, tls or none
	Username string
	Password string
	From     string
	CAFile   string
	// Timeout bounds the connection and each exchange with the server;
	// default 30 s.
	Timeout time.Duration
}

// The values of SMTP_TLS.
const (
	SMTPStartTLS   = "starttls"
	SMTPTLS        = "tls"
	SMTPWithoutTLS = "none"
)

// String describes c for a log, password masked.
func (c SMTP) String() string {
	s := fmt.Sprintf("smtp://%s:%d tls=%s from=%q", c.Host, c.Port, c.TLS, c.From)
	if c.Username != "" {
		s += " username=" + strconv.Quote(c.Username) + " password=***"
	}
	return s
}

// SMTPFromEnv reads the SMTP configuration from the environment
// variables described on [SMTP]; getenv is os.Getenv or a test's map.
func SMTPFromEnv(getenv func(string) string) (SMTP, error) {
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	c := SMTP{
		Host:     env("SMTP_HOST"),
		TLS:      strings.ToLower(env("SMTP_TLS")),
		Username: env("SMTP_USERNAME"),
		Password: getenv("SMTP_PASSWORD"), // spaces may belong to it
		From:     env("SMTP_FROM"),
		CAFile:   env("SMTP_CA_FILE"),
	}
	if c.Host == "" {
		return c, errors.New("SMTP_HOST is not set: the SMTP server the report is sent through")
	}
	if c.From == "" {
		return c, errors.New("SMTP_FROM is not set: the sender's address, e.g. aglae-connector@univ.example.fr")
	}
	if _, err := netmail.ParseAddress(c.From); err != nil {
		return c, fmt.Errorf("SMTP_FROM=%q is not an e-mail address", c.From)
	}
	switch c.TLS {
	case "":
		c.TLS = SMTPStartTLS
		c.Port = 587
	case SMTPStartTLS:
		c.Port = 587
	case SMTPTLS:
		c.Port = 465
	case SMTPWithoutTLS:
		c.Port = 25
	default:
		return c, fmt.Errorf("SMTP_TLS=%q: want starttls, tls or none", c.TLS)
	}
	if v := env("SMTP_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return c, fmt.Errorf("SMTP_PORT=%q: want a port number", v)
		}
		c.Port = p
	}
	if (c.Username == "") != (c.Password == "") {
		return c, errors.New("SMTP_USERNAME and SMTP_PASSWORD go together")
	}
	return c, nil
}

// Send sends the report b to the address to through the SMTP server c:
// the summary as the text of the message, and every CSV file of the report
// attached. It returns once the server accepted the message.
func Send(ctx context.Context, c SMTP, to string, b *Report) error {
	if _, err := netmail.ParseAddress(to); err != nil {
		return fmt.Errorf("the recipient %q is not an e-mail address", to)
	}
	m := mail.NewMsg()
	if err := m.From(c.From); err != nil {
		return fmt.Errorf("sender: %w", err)
	}
	if err := m.To(to); err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	m.Subject(b.Subject())
	m.SetDate()
	m.SetMessageID()
	m.SetBodyString(mail.TypeTextPlain, b.Text())
	pieces, err := b.Attachments()
	if err != nil {
		return err
	}
	for _, p := range pieces {
		if err := m.AttachReader(p.Nom, bytes.NewReader(p.Content),
			mail.WithFileContentType("text/csv; charset=utf-8"), mail.WithFileEncoding(mail.EncodingB64)); err != nil {
			return fmt.Errorf("attach %s: %w", p.Nom, err)
		}
	}

	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := []mail.Option{mail.WithPort(c.Port), mail.WithTimeout(timeout)}
	tc := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return fmt.Errorf("SMTP_CA_FILE: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("SMTP_CA_FILE %s: no PEM certificate in it", c.CAFile)
		}
		tc.RootCAs = roots
	}
	opts = append(opts, mail.WithTLSConfig(tc))
	switch c.TLS {
	case SMTPWithoutTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case SMTPTLS:
		opts = append(opts, mail.WithSSL())
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if c.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(c.Username), mail.WithPassword(c.Password))
	}
	client, err := mail.NewClient(c.Host, opts...)
	if err != nil {
		return fmt.Errorf("SMTP client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("send the report through %s:%d: %w", c.Host, c.Port, err)
	}
	return nil
}
