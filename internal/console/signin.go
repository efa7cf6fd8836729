package console

import (
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// The one message of a failed sign-in, whatever was wrong.
const failureMessage = "Adresse e-mail ou mot de passe incorrect."

type signInPage struct {
	Email string
}

func (c *Console) getSignIn(w http.ResponseWriter, r *http.Request) error {
	c.signInForm(w, r, http.StatusOK, "", "")
	return nil
}

// signInForm renders the sign-in form with a fresh double-submit token.
func (c *Console) signInForm(w http.ResponseWriter, r *http.Request, status int, email, msg string) {
	token := newToken()
	c.setCookie(w, r, cookieCSRF, token, Path+"/connexion", 0)
	c.render(w, r, status, "connexion", view{Title: "Connexion", CSRF: token, Message: msg, Data: signInPage{Email: email}})
}

func (c *Console) postSignIn(w http.ResponseWriter, r *http.Request) error {
	ck, err := r.Cookie(cookieCSRF)
	if err != nil || !sameToken(r.PostFormValue("csrf"), ck.Value) {
		c.renderError(w, r, http.StatusForbidden, "Formulaire refusé",
			"Ce formulaire n'est pas valide ou a expiré : rechargez la page et recommencez.")
		return nil
	}
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	password := r.PostFormValue("mot_de_passe")
	if len(email) > 254 || len(password) > 1024 {
		c.signInForm(w, r, http.StatusUnauthorized, "", failureMessage)
		return nil
	}
	now := c.now()
	// The address first: an address past its limit may not add buckets
	// for e-mails of its choosing.
	if !c.byAddr.allow(c.address(r), now) || !c.byEmail.allow(email, now) {
		w.Header().Set("Retry-After", "60")
		c.signInForm(w, r, http.StatusTooManyRequests, email, "Trop de tentatives de connexion : réessayez dans une minute.")
		return nil
	}
	u, err := c.opts.Utilisateurs.ByEmail(r.Context(), email)
	var be *bourse.Error
	unknown := errors.As(err, &be) && be.Kind == bourse.KindNotFound
	if err != nil && !unknown {
		return err
	}
	hash := u.Hash
	if unknown || u.DisabledAt != nil {
		hash = dummyHash // the same work as for a known account
	}
	ok, err := CheckPassword(hash, password)
	if err != nil {
		c.log.Error("stored password hash", zap.Int64("user", u.ID), zap.Error(err))
	}
	if !ok || unknown || u.DisabledAt != nil {
		c.signInForm(w, r, http.StatusUnauthorized, email, failureMessage)
		return nil
	}
	token := newToken()
	if err := c.opts.Sessions.Create(r.Context(), digest(token), u.ID, newToken(), now.Add(c.opts.SessionTTL)); err != nil {
		return err
	}
	if _, err := c.opts.Sessions.DeleteExpired(r.Context(), now); err != nil {
		c.log.Warn("deleting expired sessions", zap.Error(err))
	}
	c.clearCookie(w, r, cookieCSRF, Path+"/connexion")
	c.setCookie(w, r, cookieSession, token, Path, c.opts.SessionTTL)
	http.Redirect(w, r, Path+"/", http.StatusSeeOther)
	return nil
}

func (c *Console) postSignOut(w http.ResponseWriter, r *http.Request) error {
	if ck, err := r.Cookie(cookieSession); err == nil {
		if err := c.opts.Sessions.Delete(r.Context(), digest(ck.Value)); err != nil {
			return err
		}
	}
	c.clearCookie(w, r, cookieSession, Path)
	http.Redirect(w, r, Path+"/connexion", http.StatusSeeOther)
	return nil
}
