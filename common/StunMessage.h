#pragma once

#include "Endpoint.h"
#include "Parsed.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace peerchat {

/// One STUN message (RFC 8489) with the TURN methods and attributes
/// (RFC 8656) a TURN client needs: a plain value with encode/decode. The
/// attributes are kept as they came, in order; the typed accessors read and
/// write the ones TurnClient uses. decode() never throws and checks only the
/// framing; integrity is checked against the raw bytes with hasValidIntegrity(),
/// because MESSAGE-INTEGRITY covers the bytes as sent, not a re-encoding.
class StunMessage
{
public:
    enum class Method : std::uint16_t {
        Binding = 0x001,
        Allocate = 0x003,
        Refresh = 0x004,
        Send = 0x006,
        Data = 0x007,
        CreatePermission = 0x008,
        ChannelBind = 0x009,
    };
    enum class Kind : std::uint8_t { Request, Indication, Success, Error };
    enum class Attribute : std::uint16_t {
        Username = 0x0006,
        MessageIntegrity = 0x0008,
        ErrorCode = 0x0009,
        ChannelNumber = 0x000C,
        Lifetime = 0x000D,
        XorPeerAddress = 0x0012,
        Data = 0x0013,
        Realm = 0x0014,
        Nonce = 0x0015,
        XorRelayedAddress = 0x0016,
        RequestedTransport = 0x0019,
        XorMappedAddress = 0x0020,
        Software = 0x8022,
        Fingerprint = 0x8028,
    };
    using TransactionId = std::array<std::uint8_t, 12>;

    static constexpr std::uint32_t kMagicCookie = 0x2112A442;
    static constexpr std::size_t kHeaderBytes = 20;
    /// REQUESTED-TRANSPORT's protocol number for UDP.
    static constexpr std::uint8_t kTransportUdp = 17;

    StunMessage() = default;
    StunMessage(Method method, Kind kind, const TransactionId& transaction);

    /// A request or indication with a fresh random transaction id.
    static StunMessage make(Method method, Kind kind);

    /// Parses one datagram: the header (the two top bits zero, the magic
    /// cookie, a length that matches), then every attribute; refuses anything
    /// else with the reason. Unknown attributes are kept, not refused.
    static Parsed<StunMessage> decode(std::string_view bytes);

    /// The datagram. With a key, MESSAGE-INTEGRITY (HMAC-SHA1 under key) is
    /// appended after the attributes; then FINGERPRINT when asked for.
    std::string encode(const std::string* integrityKey = nullptr, bool fingerprint = false) const;

    /// The long-term credential key (RFC 8489 9.2.2): MD5(username:realm:password).
    static std::string longTermKey(const std::string& username, const std::string& realm, const std::string& password);

    Method method() const { return _method; }
    Kind kind() const { return _kind; }
    const TransactionId& transaction() const { return _transaction; }

    /// The value of the first attribute of that type, if any.
    std::optional<std::string> attribute(Attribute type) const;
    void addAttribute(Attribute type, std::string value);

    void addString(Attribute type, const std::string& text) { addAttribute(type, text); }
    void addUint32(Attribute type, std::uint32_t value);
    /// A XOR-...-ADDRESS attribute (IPv4 or IPv6).
    void addXorAddress(Attribute type, const Endpoint& endpoint);
    /// CHANNEL-NUMBER: the number, then two reserved bytes.
    void addChannelNumber(std::uint16_t channel);

    std::optional<std::uint32_t> uint32(Attribute type) const;
    std::optional<Endpoint> xorAddress(Attribute type) const;

    /// ERROR-CODE's number (class * 100 + number), or nullopt without one.
    std::optional<int> errorCode() const;
    /// ERROR-CODE's reason phrase ("Unauthorized"), empty without one.
    std::string errorReason() const;

    /// True when the message as received had MESSAGE-INTEGRITY.
    bool hasIntegrity() const { return _integrityAt.has_value(); }
    /// True when MESSAGE-INTEGRITY is present and is the HMAC-SHA1 under key of
    /// the bytes before it.
    bool hasValidIntegrity(const std::string& key) const;

private:
    struct Field
    {
        Attribute type;
        std::string value;
    };

    static std::uint16_t typeBits(Method method, Kind kind);

    Method _method = Method::Binding;
    Kind _kind = Kind::Request;
    TransactionId _transaction{};
    std::vector<Field> _fields;
    /// Set by decode(): the bytes as received and where MESSAGE-INTEGRITY starts.
    std::string _received;
    std::optional<std::size_t> _integrityAt;
};

} // namespace peerchat
