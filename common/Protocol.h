#pragma once

#include "Endpoint.h"
#include "Parsed.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace peerchat {

/// Which variant of the wire a user speaks. Seed clients write UTF-8 text;
/// the seed's .NET program writes UTF-16LE from throwaway sockets; peerchat's
/// own peerd says "peerchat/1" in its login. See docs/PROTOCOL.md.
enum class Dialect : std::uint8_t { Seed, DotNet, Peerchat };

/// The token for a dialect on the wire: "seed", "dotnet", "peerchat/1".
std::string_view dialectToken(Dialect dialect);

/// The dialect a token names, or nullopt for an unknown token.
std::optional<Dialect> dialectFromToken(std::string_view token);

/// True when token has the form of a dialect token, known or not: 1 to 32
/// bytes of [a-z0-9./-].
bool isDialectToken(std::string_view token);

/// How a datagram's text is encoded on the wire.
enum class TextEncoding : std::uint8_t { Utf8, Utf16le };

/// `login,NAME,ENDPOINT[,DIALECT[,SEQ]]`: a client logging in to indexd, and
/// indexd announcing a login. `dialect` is the raw optional fourth field, empty
/// when absent (seed clients); it is a token of [a-z0-9./-], at most 32 bytes.
/// `seq` is the presence sequence number indexd gives the announcement to
/// peerchat users (0 when absent; never written without a dialect).
struct Login
{
    std::string name;
    Endpoint endpoint;
    std::string dialect;
    std::uint64_t seq = 0;
};

/// `Accept,PORT`: indexd accepts a login; PORT is the TCP port of the roster.
struct Accept
{
    std::uint16_t port = 0;
};

/// `logout,NAME,ENDPOINT[,SEQ]`: a client leaving, and indexd announcing it
/// (with its presence sequence number to peerchat users; 0 when absent).
struct Logout
{
    std::string name;
    Endpoint endpoint;
    std::uint64_t seq = 0;
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

/// `refuse,NAME,REASON`: indexd refuses a login (peerchat extension).
/// REASON is a token: "taken" (name online elsewhere), "version" (dialect
/// not supported).
struct Refuse
{
    std::string name;
    std::string reason;
};

/// `msg,STREAM,SEQ,TIME,FROM,TEXT`: a chat message with an id, between
/// peerchat peers (and from indexd delivering an offline message). STREAM is
/// the sender's stream to this recipient (1-16 hex digits), SEQ counts from 1
/// in it; the recipient delivers each SEQ once, in order.
struct Msg
{
    std::string stream;
    std::uint64_t seq = 0;
    std::string time;
    std::string from;
    std::string text;
};

/// `ack,FROM,STREAM,SEQ`: FROM has delivered every message of STREAM up to and
/// including SEQ (cumulative). Sent to where the msg came from.
struct Ack
{
    std::string from;
    std::string stream;
    std::uint64_t seq = 0;
};

/// `alive,NAME,SEQ`: peerd's heartbeat to indexd; SEQ is the last presence
/// sequence number it applied (0 before any).
struct Alive
{
    std::string name;
    std::uint64_t seq = 0;
};

/// `seen,SEQ`: indexd's answer to a heartbeat, with its latest presence
/// sequence number, so a peerd that missed a broadcast notices.
struct Seen
{
    std::uint64_t seq = 0;
};

/// `relogin,NAME`: indexd's answer to a heartbeat from a user it does not
/// have online there (it restarted, or expired the user): log in again.
struct Relogin
{
    std::string name;
};

/// `store,TO,STREAM,SEQ,TIME,FROM,TEXT`: peerd hands indexd a message for TO,
/// who is offline, to deliver at TO's next login.
struct Store
{
    std::string to;
    Msg msg;
};

/// `stored,TO,STREAM,SEQ`: indexd holds that message.
struct Stored
{
    std::string to;
    std::string stream;
    std::uint64_t seq = 0;
};

/// `full,TO,STREAM,SEQ`: indexd refused that message: TO's offline mailbox is
/// full (or indexd keeps none). It stays in the sender's outbox.
struct Full
{
    std::string to;
    std::string stream;
    std::uint64_t seq = 0;
};

using Message = std::variant<Login, Accept, Logout, Talk, Refuse, Msg, Ack, Alive, Seen, Relogin, Store, Stored, Full>;

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
    /// Largest message or presence sequence number (fits a signed 64-bit column).
    static constexpr std::uint64_t kMaxSequence = 9223372036854775807ull;
    /// Largest datagram accepted or sent, in bytes on the wire (UTF-16LE
    /// doubles ASCII).
    static constexpr std::size_t kMaxDatagramBytes = 2 * (kMaxTextBytes + 256);

    /// Decodes one datagram (UTF-8, or UTF-16LE when its second byte is NUL).
    static Parsed<Inbound> decodeDatagram(std::string_view bytes);

    /// Decodes the UTF-8 text of one message.
    static Parsed<Message> decode(std::string_view text);

    /// The UTF-8 text of a message, fields joined by ',' with no spaces.
    static std::string encode(const Message& message);

    /// The bytes of a datagram carrying message in the given encoding.
    static std::string encodeDatagram(const Message& message, TextEncoding encoding);

    /// Which verb a message is, for logs ("login", "talk").
    static std::string_view verb(const Message& message);
};

} // namespace peerchat
