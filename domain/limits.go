package domain

import "time"

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
)

// MaxAppID bounds an app id (a token's azp or client_id) in a request path.
const MaxAppID = 1000

// People, client profiles and care teams. Their columns have no CHECK
// constraints: the API enforces these.
const (
	MaxDisplayName      = 200
	MaxPronouns         = 40
	MaxProfileListItems = 50 // a client's strengths, interests
	MaxContactChannels  = 5
	MaxPhone            = 40
	MaxEmail            = 254 // RFC 5321: the longest address that can be delivered
	MaxBestTimes        = 200
	MaxTeamRole         = 100
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
