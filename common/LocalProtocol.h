#pragma once

#include "ConversationId.h"
#include "GroupMembership.h"
#include "Parsed.h"
#include "Protocol.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace peerchat::local {

/// Version of the local protocol, sent in the welcome event.
constexpr int kProtocolVersion = 1;

/// Longest line either side accepts, newline excluded.
constexpr std::size_t kMaxLineBytes = 64 * 1024;

/// Longest key a send may carry (SendRequest::key).
constexpr std::size_t kMaxSendKeyBytes = 64;

/// Longest request id ("req") a client may give a request; peerd writes it
/// into the request's replies, so a client matches them without counting.
constexpr std::size_t kMaxRequestIdBytes = 64;

// ---- requests: UI -> peerd --------------------------------------------------

/// {"op":"roster"}: asks for a roster event.
struct RosterRequest {};
/// A conversation (ConversationId) is named on the socket by "peer":NAME
/// for a direct chat ("to":NAME in a send and a sent event) or by
/// "group":ID for a group, never both; CONV below stands for either.

/// {"op":"send",CONV,"text":TEXT[,"key":KEY]}: sends a chat message.
/// KEY (1 to kMaxSendKeyBytes of A-Z a-z 0-9 - _) makes the send idempotent:
/// peerd stores it with the line, and a send with a key already stored in
/// the conversation is answered with that line's id and stores and sends nothing.
struct SendRequest { ConversationId to; std::string text; std::string key{}; };
/// {"op":"subscribe",CONV}: history now, then every message of the conversation.
struct SubscribeRequest { ConversationId conversation; };
/// {"op":"unsubscribe",CONV}
struct UnsubscribeRequest { ConversationId conversation; };
/// {"op":"read",CONV}: the user has seen the conversation; unread to 0.
struct ReadRequest { ConversationId conversation; };
/// {"op":"search",CONV,"text":TEXT}: lines of the conversation containing TEXT.
struct SearchRequest { ConversationId conversation; std::string text; };
/// {"op":"verify","peer":NAME}: asks for a keys event with both fingerprints.
struct VerifyRequest { std::string peer; };
/// {"op":"trust","peer":NAME}: accept the key indexd now presents for NAME.
struct TrustRequest { std::string peer; };

/// What a contact request asks: its op on the socket is "add", "accept",
/// "decline", "remove", "block" or "unblock".
enum class ContactChange { Add, Accept, Decline, Remove, Block, Unblock };
/// {"op":"add","peer":NAME[,"text":NOTE]}: ask NAME to be a contact (NOTE,
/// at most Protocol::kMaxNoteBytes, goes with the request);
/// {"op":"accept"|"decline"|"remove"|"block"|"unblock","peer":NAME}.
struct ContactRequest { ContactChange change = ContactChange::Add; std::string peer; std::string note{}; };

/// The user's own state as others are to see it (the wire's).
using peerchat::PresenceState;

/// {"op":"status","state":STATE[,"text":TEXT]}: the user sets its state and
/// status message (TEXT at most 140 characters; absent: none).
struct StatusRequest { PresenceState state = PresenceState::Online; std::string text{}; };

/// {"op":"typing","peer":NAME}: the user is typing to NAME now (peerd paces
/// the notices it sends; a UI may report every key).
struct TypingRequest { std::string peer; };

/// {"op":"group-create","name":NAME}: makes a group named NAME (1 to
/// GroupMembership::kMaxTitleBytes bytes of UTF-8, no control characters)
/// with the user as its owner and only member.
struct GroupCreateRequest { std::string name; };

using Request = std::variant<RosterRequest, SendRequest, SubscribeRequest, UnsubscribeRequest, ReadRequest,
                             SearchRequest, VerifyRequest, TrustRequest, ContactRequest, TypingRequest,
                             StatusRequest, GroupCreateRequest>;

// ---- events: peerd -> UI ----------------------------------------------------

/// peerd's link to indexd.
enum class LinkState { Connecting, Online, Refused, Stopping };

/// What peerd knows of a peer's identity key. Pinned: the key indexd
/// presents is the one pinned at first contact (or trusted since). Changed:
/// indexd presents another key; nothing is sent to or taken from the peer
/// until the user trusts the new key. Unverified: a seed or .NET peer, which
/// has no key; its lines cannot be verified.
enum class Trust { Pinned, Changed, Unverified };

/// How datagrams reach a peer: not yet (none), on a shared LAN (lan),
/// directly through NATs (direct), through a TURN relay (relay).
enum class Path { None, Lan, Direct, Relay };

/// An online user, and how it shows itself: its state (JSON "state", never
/// "invisible" for another user) and status message (JSON "status", "" for
/// none; at most Protocol::kMaxStatusCharacters).
struct UserInfo
{
    std::string name;
    std::string endpoint;
    std::string dialect;
    Trust trust = Trust::Pinned;  ///< JSON "trust": "pinned" / "changed" / "unverified"
    Path path = Path::None;       ///< JSON "path": "none" / "lan" / "direct" / "relay"
    PresenceState state = PresenceState::Online;
    std::string status{};
};

/// How the user stands with another: none, asked (we asked them), asked-me
/// (they asked us: a request), contact (both agreed).
enum class Relation { None, Asked, AskedMe, Contact };

/// A user the identity has to do with as a contact: its relation, whether
/// the user blocked it, the request's note (ours while asked, theirs while
/// asked-me) and when the relation last changed (ms since the Unix epoch).
struct ContactInfo
{
    std::string name;
    Relation relation = Relation::None;
    bool blocked = false;
    std::string note{};
    std::int64_t sinceMs = 0;
};

/// Where a line stands. Incoming lines are Received. An outgoing line to a
/// peerchat peer is Pending until acked (Delivered), Stored while indexd holds
/// it for an offline peer, Failed when the give-up time passed (it stays
/// queued and is retried); to a seed client, which cannot ack, it is Sent.
enum class LineState { Received, Sent, Pending, Stored, Delivered, Failed };

/// A member of a group as a UI sees it (JSON "role": "owner", "admin", "member", "invited").
struct GroupMemberInfo
{
    std::string name;
    GroupRole role = GroupRole::Member;
};

/// A group the user is in: its id, its name, the version of its member
/// list, the members by name, and how many of its lines are unread.
struct GroupInfo
{
    std::string id;
    std::string name;
    std::uint64_t version = 1;
    std::vector<GroupMemberInfo> members;
    std::uint32_t unread = 0;
};

/// One line of a conversation.
struct ChatLine
{
    std::uint64_t id = 0;          ///< per conversation, from 1, in arrival order
    ConversationId conversation;   ///< the other side of the conversation (JSON "peer" or "group")
    bool outgoing = false;         ///< typed by this identity
    std::string from;              ///< who wrote it
    std::string sentTime;          ///< the time field of the talk datagram, as the sender wrote it
    std::int64_t receivedAtMs = 0; ///< when peerd stored it, ms since the Unix epoch
    std::string text;
    LineState state = LineState::Received;
    bool verified = true;          ///< false for lines taken from plain seed talk (JSON only when false)
};

/// First event on every connection; fingerprint is the own identity key's (Fingerprint::of).
struct WelcomeEvent { int protocol = kProtocolVersion; std::string self; LinkState state = LinkState::Connecting; std::string index; std::string fingerprint{}; };
/// The link to indexd changed; detail says why in words.
struct StateEvent { LinkState state = LinkState::Connecting; std::string detail; };
/// The whole roster (self excluded), every non-zero unread count, every
/// user with a relation or a block (contacts, requests both ways, blocked),
/// and the users who are none of these whose lines peerd holds as requests.
struct RosterEvent
{
    std::vector<UserInfo> users;
    std::map<std::string, std::uint32_t> unread;
    std::vector<ContactInfo> contacts{};
    std::vector<std::string> held{};
    std::vector<GroupInfo> groups{};
};
/// A user came online, moved, or changed its state or status message
/// (online = true), or left.
struct PresenceEvent { UserInfo user; bool online = false; };
/// Reply to subscribe: every line so far of that conversation.
struct HistoryEvent { ConversationId conversation; std::vector<ChatLine> lines; };
/// A new line in a conversation the client subscribed to.
struct MessageEvent { ChatLine line; };
/// The unread count of a conversation changed.
struct UnreadEvent { ConversationId conversation; std::uint32_t count = 0; };
/// Reply to send: the line went out with this id; key is the send's (empty when it had none).
struct SentEvent { ConversationId to; std::uint64_t id = 0; std::string key{}; };
/// A request failed; message says what happened and what to do. key is the
/// refused send's (empty when it had none, and for other errors).
struct ErrorEvent { std::string op; std::string message; std::string key{}; };
/// The state of a line changed (to every client subscribed to its conversation).
struct StatusEvent { ConversationId conversation; std::uint64_t id = 0; LineState state = LineState::Pending; };
/// Reply to search: the matching lines, oldest first.
struct FoundEvent { ConversationId conversation; std::string text; std::vector<ChatLine> lines; };
/// Reply to verify: the fingerprints to compare out of band. self is the own
/// key's; pinned the peer key peerd holds ("" when none yet); offered the
/// different key indexd now presents ("" unless trust is Changed).
struct KeysEvent { std::string peer; std::string self; std::string pinned; std::string offered; Trust trust = Trust::Pinned; };
/// A peer's trust changed (its key changed, or the user trusted the new one); to every client.
struct TrustEvent { std::string peer; Trust trust = Trust::Pinned; };
/// The path to peer is now path.
struct PathEvent { std::string peer; Path path = Path::None; };
/// How the user stands with contact.name changed; to every client.
struct ContactEvent { ContactInfo contact; };
/// The user's own state and status message, after the welcome on every
/// connection and whenever they change (from any window, or auto-away:
/// `away` true while the identity shows away because nobody used a window).
struct SelfEvent { PresenceState state = PresenceState::Online; std::string text; bool away = false; };
/// peer is typing to the user; to every client subscribed to peer. A UI
/// shows it for a few seconds after the last one.
struct TypingEvent { std::string peer; };
/// A group was made, or its member list changed; to every client (with
/// the request's id to the client whose group-create made it).
struct GroupEvent { GroupInfo group; };

using Event = std::variant<WelcomeEvent, StateEvent, RosterEvent, PresenceEvent, HistoryEvent,
                           MessageEvent, UnreadEvent, SentEvent, ErrorEvent, StatusEvent, FoundEvent,
                           KeysEvent, TrustEvent, PathEvent, ContactEvent, TypingEvent, SelfEvent, GroupEvent>;

/// The local (Unix socket) codec: newline-delimited JSON objects.
class LocalProtocol
{
public:
    /// One line of JSON, newline included; with "req" when req is not empty.
    static std::string encodeRequest(const Request& request, std::string_view req = {});
    /// A request's op as the socket names it ("send", "read").
    static std::string_view opName(const Request& request);
    static std::string encodeEvent(const Event& event);
    /// encodeEvent(event) written after what out holds: a caller that keeps
    /// out for the next event encodes without allocating. A reply to a
    /// request that had an id carries it (req, "req" after "event").
    static void appendEvent(std::string& out, const Event& event, std::string_view req = {});
    /// appendEvent(out, MessageEvent{line}) without the copy of line: the chat path's event.
    static void appendMessage(std::string& out, const ChatLine& line);

    /// Parses one line (newline optional); refuses bad JSON, unknown ops,
    /// missing or mistyped fields, invalid names, oversize text.
    static Parsed<Request> decodeRequest(std::string_view line);
    /// decodeRequest, and req set to the line's "req" ("" when it has none):
    /// also when the request is refused for another field, so the error
    /// can carry it. An invalid "req" refuses the request.
    static Parsed<Request> decodeRequest(std::string_view line, std::string& req);
    static Parsed<Event> decodeEvent(std::string_view line);
    /// decodeEvent, and req set to the event's "req" ("" when it has none).
    static Parsed<Event> decodeEvent(std::string_view line, std::string& req);

    /// True when key may be a send's key: 1 to kMaxSendKeyBytes of A-Z a-z 0-9 - _.
    static bool isSendKey(std::string_view key);
    /// True when req may be a request id: 1 to kMaxRequestIdBytes of the same characters.
    static bool isRequestId(std::string_view req);

    static std::string_view linkStateName(LinkState state);
    static std::string_view lineStateName(LineState state);
    static std::string_view trustName(Trust trust);
    static std::string_view pathName(Path path);
    static std::string_view relationName(Relation relation);
    static std::string_view contactChangeName(ContactChange change);
};

} // namespace peerchat::local
