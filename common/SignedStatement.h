#pragma once

#include "CryptoTypes.h"
#include "Protocol.h"
#include "RosterCodec.h"

#include <string>
#include <string_view>

namespace peerchat {

/// The exact bytes each signature on the wire is made over. Every statement
/// starts with "peerchat/2 PURPOSE\n", so a signature made for one purpose
/// never passes for another; messages are taken in their canonical encoding
/// (Protocol::encodeUnsigned), so spaces a sender added do not matter.
class SignedStatement
{
public:
    /// "peerchat/2 kx\n" NAME "\n" BASE64(KX): a user vouches for the
    /// key-exchange key of its current login (PeerKeys::kxSig).
    static std::string kx(const std::string& name, const PublicKey& kx);
    /// "peerchat/2 mail\n" RECIPIENT EPK MSG (raw bytes): a sender vouches
    /// that it sealed MSG to RECIPIENT's identity key in the OfflineBox with
    /// the ephemeral key EPK.
    static std::string mail(const PublicKey& recipient, const PublicKey& ephemeral, std::string_view msg);
    /// "peerchat/2 auth\n" + the auth without its SIG field.
    static std::string auth(const Auth& auth);
    /// "peerchat/2 welcome\n" BASE64(NONCE) "\n" + the welcome without its
    /// SIG field: indexd answers the login that used this nonce.
    static std::string welcome(const Welcome& welcome, const Nonce& nonce);
    /// "peerchat/2 presence\n" BASE64(EPOCH) "\n" + the login or logout
    /// announcement without its SIG field.
    static std::string presence(const Message& announcement, const Epoch& epoch);
    /// "peerchat/3 roster\n" BASE64(EPOCH) "\n" BASE64(NONCE) "\n"
    /// BASE64(DIGEST): indexd wrote, on the connection whose request carried
    /// nonce, the roster whose signed part (the stream up to and including
    /// `end,SEQ`) has this digest (RosterCodec::digest). Hashed once per
    /// roster, signed once per fetch.
    static std::string roster(const RosterDigest& digest, const Epoch& epoch, const RosterNonce& nonce);
};

} // namespace peerchat
