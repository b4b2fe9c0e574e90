#include "OfflineBox.h"

#include <Poco/Exception.h>

#include <sodium.h>

namespace peerchat {

namespace {

unsigned char* bytesOf(std::string& text)
{
    return reinterpret_cast<unsigned char*>(text.data());
}

const unsigned char* bytesOf(std::string_view text)
{
    return reinterpret_cast<const unsigned char*>(text.data());
}

} // namespace

std::string OfflineBox::seal(const SigningKey& sender, const PublicKey& recipient, std::string_view plaintext)
{
    if (plaintext.size() > kMaxPlaintextBytes)
        throw Poco::InvalidArgumentException("offline message of " + std::to_string(plaintext.size())
                                             + " bytes is longer than " + std::to_string(kMaxPlaintextBytes));
    PublicKey recipientCurve;
    if (!SigningKey::curvePublic(recipient, recipientCurve))
        throw Poco::InvalidArgumentException("the recipient's identity key is not a usable public key");
    const auto senderCurve = sender.curveSecret();
    std::string box(crypto_box_NONCEBYTES + crypto_box_MACBYTES + plaintext.size(), '\0');
    randombytes_buf(bytesOf(box), crypto_box_NONCEBYTES);
    const int failed = crypto_box_easy(bytesOf(box) + crypto_box_NONCEBYTES, bytesOf(plaintext), plaintext.size(),
                                       bytesOf(box), recipientCurve.data(), senderCurve->data());
    if (failed != 0) throw Poco::InvalidArgumentException("the recipient's identity key is not a usable public key");
    return box;
}

Parsed<std::string> OfflineBox::open(const SigningKey& recipient, const PublicKey& sender, std::string_view box)
{
    constexpr std::size_t overhead = crypto_box_NONCEBYTES + crypto_box_MACBYTES;
    if (box.size() < overhead) return Parsed<std::string>::refuse("box too short");
    if (box.size() - overhead > kMaxPlaintextBytes) return Parsed<std::string>::refuse("box too long");
    PublicKey senderCurve;
    if (!SigningKey::curvePublic(sender, senderCurve))
        return Parsed<std::string>::refuse("the sender's identity key is not a usable public key");
    const auto recipientCurve = recipient.curveSecret();
    std::string plaintext(box.size() - overhead, '\0');
    const int failed = crypto_box_open_easy(bytesOf(plaintext), bytesOf(box) + crypto_box_NONCEBYTES,
                                            box.size() - crypto_box_NONCEBYTES, bytesOf(box), senderCurve.data(),
                                            recipientCurve->data());
    if (failed != 0) return Parsed<std::string>::refuse("not sealed by this sender for this recipient");
    return plaintext;
}

} // namespace peerchat
