//go:build goolm

package matrix

import (
	"context"
	"errors"
	"fmt"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// CheckLogin is authbot doctor's Matrix check: it asks the homeserver who
// the configured credentials belong to (whoami) and says what is wrong in
// words an operator can act on. With an access token that is one request;
// with a password it logs in as a throwaway device ("authbot doctor") and
// logs that device out again, so the bot's own device and its keys are
// never touched.
func CheckLogin(ctx context.Context, homeserver string, user id.UserID, password, accessToken string) (id.UserID, error) {
	cli, err := mautrix.NewClient(homeserver, "", "")
	if err != nil {
		return "", fmt.Errorf("matrix.homeserver %q: %w", homeserver, err)
	}
	if accessToken != "" {
		cli.UserID, cli.AccessToken = user, accessToken
	} else {
		_, err := cli.Login(ctx, &mautrix.ReqLogin{
			Type:                     mautrix.AuthTypePassword,
			Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: string(user)},
			Password:                 password,
			InitialDeviceDisplayName: "authbot doctor",
			StoreCredentials:         true,
		})
		if err != nil {
			return "", loginProblem(err, "password")
		}
		defer func() { _, _ = cli.Logout(context.WithoutCancel(ctx)) }()
	}
	who, err := cli.Whoami(ctx)
	if err != nil {
		return "", loginProblem(err, "access token")
	}
	if who.UserID != user {
		return who.UserID, fmt.Errorf("the credentials belong to %s, not to matrix.user_id %s", who.UserID, user)
	}
	return who.UserID, nil
}

func loginProblem(err error, what string) error {
	switch {
	case errors.Is(err, mautrix.MForbidden), errors.Is(err, mautrix.MUnknownToken), errors.Is(err, mautrix.MMissingToken):
		return fmt.Errorf("the homeserver refused the %s (%w)", what, err)
	case retryable(err):
		return fmt.Errorf("the homeserver cannot be reached (%w)", err)
	}
	return fmt.Errorf("login: %w", err)
}
