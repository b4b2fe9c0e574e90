#pragma once

#include "Candidate.h"
#include "CryptoTypes.h"
#include "Endpoint.h"
#include "Parsed.h"
#include "TurnCredentials.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace peerchat {

/// Which variant of the wire a user speaks. Seed clients write UTF-8 text;
/// the seed's .NET program writes UTF-16LE from throwaway sockets; peerchat's
/// own peerd says "peerchat/3" in its hello and auth, and speaks the
/// authenticated, encrypted protocol. See docs/PROTOCOL.md.
enum class Dialect : std::uint8_t { Seed, DotNet, Peerchat };

/// The token for a dialect on the wire: "seed", "dotnet", "peerchat/3".
std::string_view dialectToken(Dialect dialect);

/// The dialect a token names, or nullopt for an unknown token.
std::optional<Dialect> dialectFromToken(std::string_view token);

/// True when token has the form of a dialect token, known or not: 1 to 32
/// bytes of [a-z0-9./-].
bool isDialectToken(std::string_view token);

/// A user's state as its contacts see it: online, away, busy, or invisible
/// (to everyone as if offline). On the wire and the local socket:
/// "online", "away", "busy", "invisible".
enum class PresenceState : std::uint8_t { Online, Away, Busy, Invisible };

/// The token for a state, and back (nullopt for another token).
std::string_view presenceStateToken(PresenceState state);
std::optional<PresenceState> presenceStateFromToken(std::string_view token);

/// How a datagram's text is encoded on the wire.
enum class TextEncoding : std::uint8_t { Utf8, Utf16le };

/// A peerchat/3 user's public keys, as indexd publishes them in presence and
/// rosters: its long-term identity, the key-exchange key of its current
/// login, and its own signature binding that key to its identity, its name
/// and the indexd run it logged in to (SignedStatement::kx), so not even
/// indexd can swap the key-exchange key of a user whose identity a peer has
/// pinned, nor replay one from an earlier run. On the wire: `IDPK,KXPK,KXSIG` in base64url, or `-,-,-` for a
/// seed or .NET user, which has no keys.
struct PeerKeys
{
    PublicKey identity{};
    PublicKey kx{};
    Signature kxSig{};
};

/// `hello,NAME,DIALECT[,HNONCE],PAD`: peerd asks indexd for a login
/// challenge. HNONCE is a random nonce peerd draws for each hello; indexd
/// echoes it in the challenge or refusal it answers with, so peerd takes
/// only answers to its own hellos. A peerchat/3 hello must carry it; the
/// form without parses so that an older peerd's hello gets its refusal.
/// PAD is `padding` zeros ('0'), so the hello is never shorter than the
/// challenge it asks for (indexd answers nothing longer than what it got).
struct Hello
{
    std::string name;
    std::string dialect;
    std::size_t padding = 0;
    std::optional<Nonce> nonce{};
};

/// `challenge,NAME,ENDPOINT,NONCE,HNONCE,EPOCH,INDEXID,SIG`: indexd's answer
/// to a hello. ENDPOINT is where indexd saw the hello come from; NONCE a
/// LoginCookie nonce; HNONCE the hello's own nonce, echoed; EPOCH this
/// indexd run's id and INDEXID indexd's identity key, which the user's KXSIG
/// binds; SIG indexd's signature over SignedStatement::challenge, so peerd
/// signs only an ENDPOINT indexd vouches for.
struct Challenge
{
    std::string name;
    Endpoint observed;
    Nonce nonce{};
    Nonce echo{};
    Epoch epoch{};
    PublicKey indexIdentity{};
    Signature sig{};
};

/// `auth,NAME,ENDPOINT,DIALECT,IDPK,KXPK,KXSIG,NONCE,SIG`: a peerchat/3
/// login. ENDPOINT and NONCE are the challenge's; SIG is the identity key's
/// signature over SignedStatement::auth (everything but SIG).
struct Auth
{
    std::string name;
    Endpoint observed;
    std::string dialect;
    PeerKeys keys;
    Nonce nonce{};
    Signature sig{};
};

/// `welcome,NAME,EPOCH,INDEXID,INDEXKX,SIG`: indexd accepts an auth.
/// EPOCH is this indexd run's id; INDEXID indexd's identity key, INDEXKX
/// its key-exchange key for this run; SIG indexd's signature over
/// SignedStatement::welcome (with the auth's nonce). What the user sees
/// comes after it, sealed: a snapshot once its contact list is declared.
struct Welcome
{
    std::string name;
    Epoch epoch{};
    PublicKey indexIdentity{};
    PublicKey indexKx{};
    Signature sig{};
};

/// `login,NAME,ENDPOINT[,DIALECT]`: a seed or .NET client logging in to
/// indexd (legacy mode), and indexd announcing a seed or .NET user's login
/// to the others. `dialect` is the raw optional third field, empty when
/// absent (seed clients); a token of [a-z0-9./-], at most 32 bytes, so that
/// an older peerchat's plain login gets its refusal.
struct Login
{
    std::string name;
    Endpoint endpoint;
    std::string dialect;
};

/// `Accept,PORT`: indexd accepts a login; PORT is the TCP port of the roster.
struct Accept
{
    std::uint16_t port = 0;
};

/// `logout,NAME,ENDPOINT`: a client leaving (a peerchat/3 user sends it
/// sealed), and indexd announcing a seed or .NET user's logout to the others.
struct Logout
{
    std::string name;
    Endpoint endpoint;
};

/// `talk,TIME,FROM,TEXT`: a chat message, peer to peer. TIME is free text
/// without commas (the sender's clock); TEXT is everything after the third
/// comma and may contain commas.
struct Talk
{
    std::string time;
    std::string from;
    std::string text;
};

/// `refuse,NAME,REASON[,ECHO]`: indexd refuses a login (peerchat extension).
/// REASON is a token: "taken" (name online elsewhere), "version" (dialect
/// not supported), "key" (the name belongs to another identity key),
/// "legacy" (a seed login while indexd runs without --legacy), "auth" (the
/// challenge expired or the signature is wrong: ask again), "busy" (too many
/// logins of this identity in a short time: ask again later). ECHO proves
/// the refusal answers peerd's own datagram: the HNONCE of the hello, or the
/// NONCE of the auth, it refuses; absent in refusals of seed logins.
struct Refuse
{
    std::string name;
    std::string reason;
    std::optional<Nonce> echo{};
};

/// `msg,STREAM,SEQ,TIME,FROM,TO,TEXT`: a chat message with an id, between
/// peerchat peers (and inside an offline box). STREAM is the sender's stream
/// to this recipient (1-16 hex digits), SEQ counts from 1 in it; the
/// recipient delivers each SEQ once, in order, and only when TO names it, so
/// a line sealed for someone else does not pass for one to it.
struct Msg
{
    std::string stream;
    std::uint64_t seq = 0;
    std::string time;
    std::string from;
    std::string to;
    std::string text;
};

/// A run of sequence numbers, first..last (both included).
struct SeqRange
{
    std::uint64_t first = 0;
    std::uint64_t last = 0;
};

/// `ack,FROM,STREAM,SEQ[,RANGES]`: FROM has delivered every message of STREAM
/// up to and including SEQ (cumulative), and holds those in RANGES ahead of a
/// gap (selective: `A-B` runs joined by `.`, ascending, disjoint, all above
/// SEQ, at most Protocol::kMaxAckRanges; absent when none is held). Sent to
/// where the msg came from.
struct Ack
{
    std::string from;
    std::string stream;
    std::uint64_t seq = 0;
    std::vector<SeqRange> held;
};

/// `alive,NAME,SEQ[,CANDS]`: peerd's heartbeat to indexd; SEQ is the number
/// of the last presence message (here, gone, snapshot) it applied in this
/// login (0 before any), for indexd's debug log; CANDS its host and
/// relay candidates (CandidateList), which indexd hands, with the endpoint
/// it sees, to the peers it introduces (meet). Without CANDS indexd keeps
/// those it had.
struct Alive
{
    std::string name;
    std::uint64_t seq = 0;
    std::optional<std::vector<Candidate>> candidates{};
};

/// `punch,PEER` (sealed, peerd -> indexd): introduce me to PEER, to whom I
/// have no working path; indexd answers both sides with meet.
struct Punch
{
    std::string peer;
};

/// `meet,PEER,CANDS` (sealed, indexd -> peerd): probe PEER at CANDS now
/// (PEER's host and relay candidates and the endpoint indexd sees it at);
/// PEER is told the same of you at the same time.
struct Meet
{
    std::string peer;
    std::vector<Candidate> candidates;
};

/// A probe's random token, echoed by its answer.
using ProbeToken = std::array<std::uint8_t, 8>;

/// `probe,FROM,TO,TOKEN` (sealed, peer -> peer): is this a path to you? Sent
/// to each candidate while a path is sought, and on a path in use as its
/// keepalive.
struct Probe
{
    std::string from;
    std::string to;
    ProbeToken token{};
};

/// `probed,FROM,TO,TOKEN` (sealed, peer -> peer): the answer to a probe,
/// sent back to where the probe came from: that way works both ways.
struct Probed
{
    std::string from;
    std::string to;
    ProbeToken token{};
};

/// `caps,FROM,TO,FEATURES,ANSWER` (sealed, peer -> peer): what FROM's peerd
/// takes beyond the first form of peerchat/3. FEATURES names each, joined
/// by `.` (a token; `-` for none); names a peerd does not know are ignored.
/// ANSWER is 1 when this caps answers one from TO, else 0 (it asks for TO's).
/// A peerd from before caps drops it, so it never hears a feature from one.
struct Caps
{
    std::string from;
    std::string to;
    std::string features;
    bool answer = false;

    /// True when FEATURES names feature.
    bool offers(std::string_view feature) const;
};

/// The feature of sealed bundles: several peer-to-peer messages in one seal.
inline constexpr std::string_view kBundleFeature = "bundle";

/// `turn,SERVER,EXPIRY,KEY` (sealed, indexd -> peerd): relay through the
/// TURN server at SERVER (IP:PORT, UDP) when no direct path works, with the
/// credential TurnCredentials::of(NAME, EXPIRY, KEY) (NAME: the user's own;
/// EXPIRY in unix seconds). Sent after each welcome and
/// again when the last one is half spent.
struct Turn
{
    Endpoint server;
    std::uint64_t expiry = 0;
    TurnKey key{};
};

/// `seen,SEQ` (sealed): indexd's answer to a heartbeat, with the number of
/// the last presence message it sent this user, so a peerd that missed one
/// notices (and declares its list again for a snapshot).
struct Seen
{
    std::uint64_t seq = 0;
};

/// `relogin[,NAME]`: indexd's answer to a heartbeat (or any sealed
/// datagram) from a user it does not have online there (it restarted, or
/// expired the user): log in again. Without NAME when indexd cannot tell who
/// sent it.
struct Relogin
{
    std::string name;  ///< empty: not written
};

/// `seal,SKID,RKID,CTR,BOX`: a datagram sealed by a SessionCipher between
/// two key-exchange keys (ids SKID of the sender's, RKID of the recipient's;
/// CTR the sender's counter; BOX the AEAD ciphertext), carrying one inner
/// message (msg, ack, alive, seen, logout, post, stored, full, mail, punch,
/// meet, probe, probed).
struct Seal
{
    KeyId sender{};
    KeyId recipient{};
    std::uint64_t counter = 0;
    std::string box;  ///< raw bytes
};

/// `post,TO,STREAM,SEQ,BOX` (sealed, peerd -> indexd): keep this message for
/// TO, who is offline. BOX is an OfflineBox from the sender to TO holding the
/// msg text (`msg,STREAM,SEQ,TIME,FROM,TO,TEXT`); indexd sees ciphertext only.
struct Post
{
    std::string to;
    std::string stream;
    std::uint64_t seq = 0;
    std::string box;  ///< raw bytes
};

/// `mail,FROM,IDPK,STREAM,SEQ,BOX` (sealed, indexd -> peerd): a message kept
/// for the recipient. IDPK is the identity key indexd has bound to FROM.
struct Mail
{
    std::string from;
    PublicKey identity{};
    std::string stream;
    std::uint64_t seq = 0;
    std::string box;  ///< raw bytes
};

/// `stored,TO,STREAM,SEQ` (sealed): indexd holds that posted message.
struct Stored
{
    std::string to;
    std::string stream;
    std::uint64_t seq = 0;
};

/// Why indexd did not keep a posted message (the REASON of `full`).
enum class FullReason : std::uint8_t
{
    Unstated,   ///< no REASON field, or one this peerd does not know
    Recipient,  ///< `recipient`: TO's mailbox holds as many lines as indexd keeps for one user
    Pair,       ///< `pair`: the sender's lines waiting for TO reach the limit (lines or bytes)
    Sender,     ///< `sender`: the sender's lines waiting for anyone reach the limit (lines or bytes)
    Disk,       ///< `disk`: indexd's mailbox budget is spent, or its disk is full
    Unknown     ///< `unknown`: no user of that name is registered at indexd
};

/// The token for a reason on the wire ("recipient"...); empty for Unstated.
std::string_view fullReasonToken(FullReason reason);

/// `full,TO,STREAM,SEQ[,REASON]` (sealed): indexd refused that posted
/// message, for REASON. It stays in the sender's outbox.
struct Full
{
    std::string to;
    std::string stream;
    std::uint64_t seq = 0;
    FullReason reason = FullReason::Unstated;
};

/// `contacts,NAME,VERSION,PART,PARTS,STATE,STATUS,NAMES,SIG` (sealed,
/// peerd -> indexd): part PART of PARTS of NAME's contact list as NAME
/// declares it, version VERSION (larger for a later list): the users whose
/// presence NAME asks for and lets see its own, and how NAME is to be shown
/// to them: STATE (a PresenceState token) and STATUS (the status message,
/// base64url of its UTF-8, at most Protocol::kMaxStatusCharacters; `-` for
/// none), which every part repeats. NAMES is the names joined by `;`, `-`
/// for none; SIG is NAME's signature over SignedStatement::contacts
/// (everything but SIG), so a declaration shows who made it to anyone
/// holding NAME's key, and indexd cannot make one up (nor a state).
struct ContactsDeclaration
{
    std::string name;
    std::uint64_t version = 0;
    std::uint32_t part = 1;
    std::uint32_t parts = 1;
    PresenceState state = PresenceState::Online;
    std::string status{};
    std::vector<std::string> names;
    Signature sig{};
};

/// `declared,VERSION` (sealed, indexd -> peerd): indexd holds every part of
/// the contact list of that version.
struct Declared
{
    std::uint64_t version = 0;
};

/// `typing,FROM,TO` (sealed, peer -> peer): FROM is writing to TO now.
/// Never stored nor resent; a sender sends one at most every few seconds
/// while its user types, and the recipient shows it for a few seconds.
struct Typing
{
    std::string from;
    std::string to;
};

/// `whois,NAME` (sealed, peerd -> indexd): which identity key is NAME
/// bound to? Asked before the first contact letter to a user peerd holds no
/// key for, since a letter is sealed to its recipient's key.
struct Whois
{
    std::string name;
};

/// `key,NAME,IDPK` (sealed, indexd -> peerd): the answer to whois. IDPK is
/// `-` (none) when no user ever logged in under NAME.
struct NameKey
{
    std::string name;
    std::optional<PublicKey> identity{};
};

/// What a contact letter asks or tells its recipient.
enum class ContactKind : std::uint8_t
{
    Request,  ///< `request`: FROM asks TO to be contacts; NOTE is FROM's message to TO
    Accept,   ///< `accept`: FROM takes TO's request: the two are contacts
    Decline,  ///< `decline`: FROM turns TO's request down
    Remove    ///< `remove`: FROM no longer has TO as a contact
};

/// The token for a kind on the wire ("request"...), and back (nullopt for
/// another token).
std::string_view contactKindToken(ContactKind kind);
std::optional<ContactKind> contactKindFromToken(std::string_view token);

/// `contact,STREAM,SEQ,FROM,TO,KIND,NOTE`: a step of becoming (or ceasing
/// to be) contacts, sealed in an OfflineBox and posted through indexd's
/// mailbox like an offline line, whether TO is online or not (a stranger
/// has no endpoint to send to). STREAM is the sender's contact stream (one
/// for all its letters) and SEQ counts in it, so the newest letter between
/// two users is the one that holds. NOTE (free text, at most
/// Protocol::kMaxNoteBytes, empty but for a request) is the last field.
struct ContactLetter
{
    std::string stream;
    std::uint64_t seq = 0;
    std::string from;
    std::string to;
    ContactKind kind = ContactKind::Request;
    std::string note;
};

/// `here,SEQ,NAME,ENDPOINT,DIALECT,IDPK,KXPK,KXSIG,STATE,STATUS` (sealed,
/// indexd -> peerd): NAME is online at ENDPOINT (or moved there, or changed
/// its state or status message). SEQ numbers the presence indexd sends this
/// recipient during this login, from 1, one number per here, gone and
/// snapshot. Keys as in a roster (`-,-,-` for a seed or .NET user); STATE a
/// PresenceState token (never invisible); STATUS, the last field, free text
/// (at most Protocol::kMaxStatusCharacters, may be empty). Only a user's
/// mutual contacts, and (in legacy mode) seed and .NET users, are ever here.
struct Here
{
    std::uint64_t seq = 0;
    std::string name;
    Endpoint endpoint;
    std::string dialect;
    std::optional<PeerKeys> keys{};
    PresenceState state = PresenceState::Online;
    std::string status{};
};

/// `gone,SEQ,NAME` (sealed, indexd -> peerd): NAME is offline to the
/// recipient (left, went invisible, or is no longer a mutual contact).
struct Gone
{
    std::uint64_t seq = 0;
    std::string name;
};

/// `snapshot,SEQ,COUNT` (sealed, indexd -> peerd): forget who was here; the
/// COUNT `here` numbered SEQ+1..SEQ+COUNT are everyone the recipient sees
/// now. Sent after each complete contact list, and to a recipient whose
/// heartbeat shows it missed presence.
struct Snapshot
{
    std::uint64_t seq = 0;
    std::uint64_t count = 0;
};

using Message = std::variant<Login, Accept, Logout, Talk, Refuse, Msg, Ack, Alive, Seen, Relogin, Stored, Full,
                             Hello, Challenge, Auth, Welcome, Seal, Post, Mail, Punch, Meet, Probe, Probed,
                             Turn, Caps, Whois, NameKey, ContactLetter, Typing, ContactsDeclaration,
                             Declared, Here, Gone, Snapshot>;

/// True for a stream id: 1 to 16 lowercase hex digits.
bool isStreamId(std::string_view text);

/// A decoded datagram: the message and the encoding it came in.
struct Inbound
{
    Message message;
    TextEncoding encoding = TextEncoding::Utf8;
};

/// The UDP wire codec: every datagram is parsed and printed here.
class Protocol
{
public:
    /// Largest chat text in bytes of UTF-8.
    static constexpr std::size_t kMaxTextBytes = 4096;
    /// Largest time field in bytes.
    static constexpr std::size_t kMaxTimeBytes = 32;
    /// Longest status message, in characters (code points).
    static constexpr std::size_t kMaxStatusCharacters = 140;
    /// Why text may not be a status message (empty when it may): at most
    /// kMaxStatusCharacters of valid UTF-8, no control character.
    static std::string checkStatus(std::string_view text);
    /// Largest note of a contact request in bytes of UTF-8.
    static constexpr std::size_t kMaxNoteBytes = 256;
    /// Most names a contact list may hold.
    static constexpr std::size_t kMaxContacts = 1000;
    /// Most parts of a contact list, and most bytes of NAMES in one: room for
    /// kMaxContacts of the longest names.
    static constexpr std::uint32_t kMaxDeclarationParts = 16;
    static constexpr std::size_t kMaxDeclarationNamesBytes = 3000;
    /// Largest message or presence sequence number (fits a signed 64-bit column).
    static constexpr std::uint64_t kMaxSequence = 9223372036854775807ull;
    /// Most runs of held messages one ack names.
    static constexpr std::size_t kMaxAckRanges = 32;
    /// Largest datagram accepted or sent, in bytes on the wire (UTF-16LE
    /// doubles ASCII; a sealed post of the longest text, base64 twice, fits).
    static constexpr std::size_t kMaxDatagramBytes = 2 * (kMaxTextBytes + 256);

    /// Decodes one datagram (UTF-8, or UTF-16LE when its second byte is NUL).
    static Parsed<Inbound> decodeDatagram(std::string_view bytes);

    /// Decodes the UTF-8 text of one message.
    static Parsed<Message> decode(std::string_view text);

    /// What joins the messages of a sealed bundle: NUL, which no message holds.
    static constexpr char kBundleSeparator = '\0';
    /// Most bytes of plaintext peerd puts in one bundle: sealed, the datagram
    /// stays within 1,200 bytes (base64 of the box, its header, and TURN's
    /// channel header on a relayed path), below any path's MTU.
    static constexpr std::size_t kMaxBundleBytes = 800;
    /// Decodes the plaintext of a seal: one message, or a bundle of them
    /// joined by kBundleSeparator, each decoded as if it came alone.
    static std::vector<Parsed<Message>> decodeBundle(std::string_view text);

    /// The UTF-8 text of a message, fields joined by ',' with no spaces;
    /// binary fields in Base64.
    static std::string encode(const Message& message);
    /// encode(message) written after what out holds (a bundle being filled):
    /// a msg, the chat path's message, without a string of its own.
    static void appendEncoded(std::string& out, const Message& message);
    /// A here for many recipients, who differ only in its SEQ: the text of
    /// its fields after SEQ, encoded once (hereFields), and the text of one
    /// numbered seq (numberedHere). encode(here) is numberedHere(here.seq,
    /// hereFields(here)).
    static std::string hereFields(const Here& here);
    static std::string numberedHere(std::uint64_t seq, std::string_view fields);

    /// The text a message's signature is made over: encode() without the
    /// trailing SIG field (Challenge, Auth, Welcome, ContactsDeclaration); the
    /// same as encode() for the others.
    static std::string encodeUnsigned(const Message& message);

    /// The bytes of a datagram carrying message in the given encoding.
    static std::string encodeDatagram(const Message& message, TextEncoding encoding);

    /// The least length of a hello: longer than the longest challenge.
    static constexpr std::size_t kMinHelloBytes = 320;

    /// Which verb a message is, for logs ("login", "talk").
    static std::string_view verb(const Message& message);
};

} // namespace peerchat
