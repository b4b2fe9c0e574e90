#include "StunMessage.h"

#include <Poco/Checksum.h>
#include <Poco/HMACEngine.h>
#include <Poco/MD5Engine.h>
#include <Poco/SHA1Engine.h>
#include <sodium.h>

namespace peerchat {

namespace {

constexpr std::uint32_t kFingerprintXor = 0x5354554E;
constexpr std::size_t kIntegrityBytes = 20;

void putUint16(std::string& out, std::uint16_t value)
{
    out.push_back(static_cast<char>(value >> 8));
    out.push_back(static_cast<char>(value & 0xFF));
}

void putUint32(std::string& out, std::uint32_t value)
{
    putUint16(out, static_cast<std::uint16_t>(value >> 16));
    putUint16(out, static_cast<std::uint16_t>(value & 0xFFFF));
}

std::uint16_t readUint16(std::string_view bytes, std::size_t at)
{
    return static_cast<std::uint16_t>((static_cast<std::uint8_t>(bytes[at]) << 8) | static_cast<std::uint8_t>(bytes[at + 1]));
}

std::uint32_t readUint32(std::string_view bytes, std::size_t at)
{
    return (static_cast<std::uint32_t>(readUint16(bytes, at)) << 16) | readUint16(bytes, at + 2);
}

// The header with its length field set to length, as integrity and fingerprint
// see it: both cover the message as if it ended just after themselves.
std::string headerWithLength(std::string_view message, std::size_t length)
{
    std::string header(message.substr(0, StunMessage::kHeaderBytes));
    header[2] = static_cast<char>((length >> 8) & 0xFF);
    header[3] = static_cast<char>(length & 0xFF);
    return header;
}

std::string hmacSha1(const std::string& key, std::string_view header, std::string_view body)
{
    Poco::HMACEngine<Poco::SHA1Engine> hmac(key);
    hmac.update(header.data(), static_cast<unsigned>(header.size()));
    hmac.update(body.data(), static_cast<unsigned>(body.size()));
    const Poco::DigestEngine::Digest& digest = hmac.digest();
    return std::string(digest.begin(), digest.end());
}

std::uint32_t fingerprintOf(std::string_view header, std::string_view body)
{
    Poco::Checksum crc(Poco::Checksum::TYPE_CRC32);
    crc.update(header.data(), static_cast<unsigned>(header.size()));
    crc.update(body.data(), static_cast<unsigned>(body.size()));
    return crc.checksum() ^ kFingerprintXor;
}

std::size_t padded(std::size_t length) { return (length + 3) & ~std::size_t{3}; }

} // namespace

StunMessage::StunMessage(Method method, Kind kind, const TransactionId& transaction)
    : _method(method), _kind(kind), _transaction(transaction)
{
}

StunMessage StunMessage::make(Method method, Kind kind)
{
    // sodium_init is idempotent and makes randombytes_buf safe to call from any thread.
    static const bool sodiumReady = sodium_init() >= 0;
    (void)sodiumReady;
    TransactionId transaction;
    randombytes_buf(transaction.data(), transaction.size());
    return StunMessage(method, kind, transaction);
}

std::uint16_t StunMessage::typeBits(Method method, Kind kind)
{
    const auto m = static_cast<std::uint16_t>(method);
    const auto c = static_cast<std::uint16_t>(kind);
    // RFC 8489 5: the class bits C1 C0 sit at bits 8 and 4, between the method's.
    return static_cast<std::uint16_t>((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2)
                                      | ((c & 0x1) << 4) | ((c & 0x2) << 7));
}

Parsed<StunMessage> StunMessage::decode(std::string_view bytes)
{
    if (bytes.size() < kHeaderBytes) return Parsed<StunMessage>::refuse("shorter than a STUN header");
    const std::uint16_t type = readUint16(bytes, 0);
    if (type & 0xC000) return Parsed<StunMessage>::refuse("the two top bits are not zero: not STUN");
    if (readUint32(bytes, 4) != kMagicCookie) return Parsed<StunMessage>::refuse("no magic cookie");
    const std::size_t length = readUint16(bytes, 2);
    if (length % 4 != 0) return Parsed<StunMessage>::refuse("length is not a multiple of 4");
    if (kHeaderBytes + length != bytes.size()) return Parsed<StunMessage>::refuse("length does not match the datagram");

    const auto method = static_cast<Method>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
    const auto kind = static_cast<Kind>(((type >> 4) & 0x1) | ((type >> 7) & 0x2));
    TransactionId transaction;
    for (std::size_t i = 0; i < transaction.size(); ++i) transaction[i] = static_cast<std::uint8_t>(bytes[8 + i]);
    StunMessage message(method, kind, transaction);

    std::size_t at = kHeaderBytes;
    while (at < bytes.size()) {
        if (bytes.size() - at < 4) return Parsed<StunMessage>::refuse("an attribute header is cut short");
        const auto attribute = static_cast<Attribute>(readUint16(bytes, at));
        const std::size_t size = readUint16(bytes, at + 2);
        if (bytes.size() - at - 4 < padded(size)) return Parsed<StunMessage>::refuse("an attribute runs past the end");
        const std::string_view value = bytes.substr(at + 4, size);
        if (message._integrityAt && attribute != Attribute::Fingerprint)
            return Parsed<StunMessage>::refuse("an attribute other than FINGERPRINT after MESSAGE-INTEGRITY");
        if (attribute == Attribute::MessageIntegrity) {
            if (size != kIntegrityBytes) return Parsed<StunMessage>::refuse("MESSAGE-INTEGRITY is not 20 bytes");
            message._integrityAt = at;
        }
        if (attribute == Attribute::Fingerprint) {
            if (size != 4 || at + 8 != bytes.size())
                return Parsed<StunMessage>::refuse("FINGERPRINT is not 4 bytes at the end");
            const std::string header = headerWithLength(bytes, at + 8 - kHeaderBytes);
            if (fingerprintOf(header, bytes.substr(kHeaderBytes, at - kHeaderBytes)) != readUint32(bytes, at + 4))
                return Parsed<StunMessage>::refuse("FINGERPRINT does not match");
        }
        // Integrity and fingerprint belong to these bytes, not to the message:
        // encode() computes them afresh.
        if (attribute != Attribute::MessageIntegrity && attribute != Attribute::Fingerprint)
            message._fields.push_back({attribute, std::string(value)});
        at += 4 + padded(size);
    }
    if (message._integrityAt) message._received = std::string(bytes);
    return message;
}

std::string StunMessage::encode(const std::string* integrityKey, bool fingerprint) const
{
    std::string out;
    putUint16(out, typeBits(_method, _kind));
    putUint16(out, 0);
    putUint32(out, kMagicCookie);
    out.append(reinterpret_cast<const char*>(_transaction.data()), _transaction.size());
    for (const Field& field : _fields) {
        putUint16(out, static_cast<std::uint16_t>(field.type));
        putUint16(out, static_cast<std::uint16_t>(field.value.size()));
        out += field.value;
        out.append(padded(field.value.size()) - field.value.size(), '\0');
    }
    if (integrityKey) {
        const std::size_t at = out.size();
        const std::string header = headerWithLength(out, at + 4 + kIntegrityBytes - kHeaderBytes);
        const std::string mac = hmacSha1(*integrityKey, header, std::string_view(out).substr(kHeaderBytes));
        putUint16(out, static_cast<std::uint16_t>(Attribute::MessageIntegrity));
        putUint16(out, static_cast<std::uint16_t>(kIntegrityBytes));
        out += mac;
    }
    if (fingerprint) {
        const std::size_t at = out.size();
        const std::string header = headerWithLength(out, at + 8 - kHeaderBytes);
        const std::uint32_t crc = fingerprintOf(header, std::string_view(out).substr(kHeaderBytes));
        putUint16(out, static_cast<std::uint16_t>(Attribute::Fingerprint));
        putUint16(out, 4);
        putUint32(out, crc);
    }
    const std::size_t length = out.size() - kHeaderBytes;
    out[2] = static_cast<char>((length >> 8) & 0xFF);
    out[3] = static_cast<char>(length & 0xFF);
    return out;
}

std::string StunMessage::longTermKey(const std::string& username, const std::string& realm, const std::string& password)
{
    Poco::MD5Engine md5;
    md5.update(username + ":" + realm + ":" + password);
    const Poco::DigestEngine::Digest& digest = md5.digest();
    return std::string(digest.begin(), digest.end());
}

std::optional<std::string> StunMessage::attribute(Attribute type) const
{
    for (const Field& field : _fields) {
        if (field.type == type) return field.value;
    }
    return std::nullopt;
}

void StunMessage::addAttribute(Attribute type, std::string value)
{
    _fields.push_back({type, std::move(value)});
}

void StunMessage::addUint32(Attribute type, std::uint32_t value)
{
    std::string bytes;
    putUint32(bytes, value);
    addAttribute(type, std::move(bytes));
}

void StunMessage::addChannelNumber(std::uint16_t channel)
{
    std::string bytes;
    putUint16(bytes, channel);
    putUint16(bytes, 0);
    addAttribute(Attribute::ChannelNumber, std::move(bytes));
}

void StunMessage::addXorAddress(Attribute type, const Endpoint& endpoint)
{
    const Poco::Net::IPAddress host = endpoint.host();
    const bool v6 = host.family() == Poco::Net::AddressFamily::IPv6;
    std::string bytes;
    putUint16(bytes, v6 ? 0x02 : 0x01);
    putUint16(bytes, static_cast<std::uint16_t>(endpoint.port() ^ (kMagicCookie >> 16)));
    std::string mask;
    putUint32(mask, kMagicCookie);
    mask.append(reinterpret_cast<const char*>(_transaction.data()), _transaction.size());
    const auto* raw = static_cast<const std::uint8_t*>(host.addr());
    for (std::size_t i = 0; i < host.length(); ++i) bytes.push_back(static_cast<char>(raw[i] ^ static_cast<std::uint8_t>(mask[i])));
    addAttribute(type, std::move(bytes));
}

std::optional<std::uint32_t> StunMessage::uint32(Attribute type) const
{
    const auto value = attribute(type);
    if (!value || value->size() != 4) return std::nullopt;
    return readUint32(*value, 0);
}

std::optional<Endpoint> StunMessage::xorAddress(Attribute type) const
{
    const auto value = attribute(type);
    if (!value || value->size() < 4) return std::nullopt;
    const std::uint16_t family = readUint16(*value, 0);
    const std::size_t length = family == 0x01 ? 4 : family == 0x02 ? 16 : 0;
    if (length == 0 || value->size() != 4 + length) return std::nullopt;
    const auto port = static_cast<std::uint16_t>(readUint16(*value, 2) ^ (kMagicCookie >> 16));
    if (port == 0) return std::nullopt;
    std::string mask;
    putUint32(mask, kMagicCookie);
    mask.append(reinterpret_cast<const char*>(_transaction.data()), _transaction.size());
    std::uint8_t raw[16];
    for (std::size_t i = 0; i < length; ++i) raw[i] = static_cast<std::uint8_t>((*value)[4 + i] ^ mask[i]);
    const Poco::Net::IPAddress host(raw, static_cast<poco_socklen_t>(length));
    return Endpoint(Poco::Net::SocketAddress(host, port));
}

std::optional<int> StunMessage::errorCode() const
{
    const auto value = attribute(Attribute::ErrorCode);
    if (!value || value->size() < 4) return std::nullopt;
    const int hundreds = static_cast<std::uint8_t>((*value)[2]) & 0x07;
    const int number = static_cast<std::uint8_t>((*value)[3]);
    if (hundreds < 3 || hundreds > 6 || number > 99) return std::nullopt;
    return hundreds * 100 + number;
}

std::string StunMessage::errorReason() const
{
    const auto value = attribute(Attribute::ErrorCode);
    if (!value || value->size() < 4) return {};
    return value->substr(4);
}

bool StunMessage::hasValidIntegrity(const std::string& key) const
{
    if (!_integrityAt) return false;
    const std::size_t at = *_integrityAt;
    const std::string_view received(_received);
    const std::string header = headerWithLength(received, at + 4 + kIntegrityBytes - kHeaderBytes);
    const std::string mac = hmacSha1(key, header, received.substr(kHeaderBytes, at - kHeaderBytes));
    return sodium_memcmp(mac.data(), received.data() + at + 4, kIntegrityBytes) == 0;
}

} // namespace peerchat
