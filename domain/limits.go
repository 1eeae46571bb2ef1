package domain

import (
	"time"
	"unicode/utf8"

	"github.com/waypoint-portal/waypoint/domain/hsds"
)

// Limits on what Waypoint accepts, each declared once: the domain checks
// them, the API schema carries them (see Rules), and where a column has a
// CHECK constraint a test compares the two. Lengths are in characters
// (Unicode code points, as PostgreSQL's char_length counts), not bytes.

// Goals, their steps and check-ins.
const (
	MaxGoalTitle        = 200
	MaxGoalDescription  = 5000
	MaxGoalWhy          = 2000
	MaxGoalStatusReason = 1000
	MaxGoalStrengths    = 20
	MaxStrengthLen      = 100
	MaxGoalSteps        = 50
	MaxStepTitle        = 200
	MinCheckInRating    = 0
	MaxCheckInRating    = 10
	MaxCheckInNote      = 2000
	// maxHistoryField bounds a goal history entry's field path.
	maxHistoryField = 200
)

// Referrals and messages.
const (
	MaxReferralNote        = 2000
	MaxConversationSubject = 200
	// MaxMessageLength is the longest message body.
	MaxMessageLength = 4000
	// MaxConversationWorkers bounds the workers named when starting a conversation.
	MaxConversationWorkers = 20
	// MaxConversationParticipants bounds a conversation's participants: the
	// client and their care team when it started (no one joins later).
	MaxConversationParticipants = 1 + MaxCareTeam
)

// Barrier reports (service feedback): the reporter's words and the editor's note.
const (
	MaxFeedbackText   = 2000
	MaxResolutionNote = 2000
)

// MaxAppID bounds an app id: a token's azp or client_id (a longer one makes
// the token invalid), and an app id in a request path.
const MaxAppID = 1000

// MaxSafeInteger bounds every version, count and event position Waypoint
// emits: 2^53-1, the largest integer every JSON reader holds exactly
// (JavaScript's Number.MAX_SAFE_INTEGER). Their bigint columns count up one
// write or one row at a time, so reaching it would take 9 * 10^15 of them.
const MaxSafeInteger = 1<<53 - 1

// MaxCursorLen bounds a page cursor: the longest one a list hands out is the
// apps list's, the base64url of an app id of MaxAppID characters in UTF-8
// (the others are 22 or 23 characters).
const MaxCursorLen = (MaxAppID*utf8.UTFMax*8 + 5) / 6

// Access log entries.
const (
	// MaxRequestID bounds a request id (X-Request-Id, as the API accepts or makes it).
	MaxRequestID = 64
	// MaxResourceID bounds an entry's resource_id: a record's UUID, or empty.
	MaxResourceID = 36
	// MaxAccessLabel bounds an entry's label, the record in words: the
	// longest of what it can be (a goal's title, a service's name, a
	// conversation's subject, a person's name); longer is cut when written.
	MaxAccessLabel = max(MaxGoalTitle, hsds.MaxName, MaxConversationSubject, MaxDisplayName)
)

// People, client profiles and care teams. Their columns have no CHECK
// constraints: the API enforces these.
const (
	MaxDisplayName      = 200
	MaxPronouns         = 40
	MaxProfileListItems = 50 // a client's strengths, interests
	// MaxProfileItem bounds one strength or interest, as long as a strength
	// a goal uses (MaxStrengthLen), so any of them can be used there.
	MaxProfileItem = MaxStrengthLen
	// MaxLanguageTag bounds a BCP 47 language tag (RFC 5646 section 4.4.1
	// asks implementations to take tags of at least 35 characters).
	MaxLanguageTag     = 35
	MaxContactChannels = 5
	MaxPhone           = 40
	MaxEmail           = hsds.MaxEmail
	MaxBestTimes       = 200
	MaxTeamRole        = 100
	// MaxCareTeam bounds a client's care team (an administrator adding one
	// more gets 409): it bounds who takes part in a conversation too.
	MaxCareTeam = 50
	// MaxConsents bounds a client's consents (409 past it). Consents outlast a
	// worker's time on the care team until withdrawn, hence twice the team.
	MaxConsents = 2 * MaxCareTeam
	// MaxSupportedClients bounds the clients one person supports (409 when
	// redeeming one more invitation): what GET /v1/me lists.
	MaxSupportedClients = 100
)

// Supporter invitations.
const (
	// InvitationTTL is how long an invitation code can be redeemed.
	InvitationTTL = 7 * 24 * time.Hour
	// MaxRedeemAttempts is how many codes one person may try per
	// RedeemWindow (a redemption that succeeds starts the count again).
	MaxRedeemAttempts = 10
	// RedeemWindow is the window MaxRedeemAttempts counts in.
	RedeemWindow = time.Hour
	// MaxInvitationCodeInput bounds a code as typed (dashes and spaces allowed).
	MaxInvitationCodeInput = 64
)
