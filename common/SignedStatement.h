#pragma once

#include "CryptoTypes.h"
#include "Protocol.h"

#include <string>
#include <string_view>

namespace peerchat {

/// The exact bytes each signature on the wire is made over. Every statement
/// starts with "peerchat/3 PURPOSE\n", so a signature made for one purpose
/// never passes for another, nor one of peerchat/2 for peerchat/3; messages
/// are taken in their canonical encoding (Protocol::encodeUnsigned), so
/// spaces a sender added do not matter.
class SignedStatement
{
public:
    /// "peerchat/3 kx\n" BASE64(IDPK) "\n" NAME "\n" BASE64(KX) "\n"
    /// BASE64(INDEXID) "\n" BASE64(EPOCH): the user of identity and name
    /// vouches for the key-exchange key of its login to the indexd run of
    /// indexIdentity and epoch (PeerKeys::kxSig), so the signature passes for
    /// no other holder and no other run.
    static std::string kx(const PublicKey& identity, const std::string& name, const PublicKey& kx,
                          const PublicKey& indexIdentity, const Epoch& epoch);
    /// "peerchat/3 challenge\n" + the challenge without its SIG field.
    static std::string challenge(const Challenge& challenge);
    /// "peerchat/3 mail\n" RECIPIENT EPK MSG (raw bytes): a sender vouches
    /// that it sealed MSG to RECIPIENT's identity key in the OfflineBox with
    /// the ephemeral key EPK.
    static std::string mail(const PublicKey& recipient, const PublicKey& ephemeral, std::string_view msg);
    /// "peerchat/3 contacts\n" + the contact list part without its SIG field:
    /// the user of its NAME declares these contacts, in this version.
    static std::string contacts(const ContactsDeclaration& declaration);
    /// "peerchat/3 auth\n" + the auth without its SIG field.
    static std::string auth(const Auth& auth);
    /// "peerchat/3 welcome\n" BASE64(NONCE) "\n" + the welcome without its
    /// SIG field: indexd answers the login that used this nonce.
    static std::string welcome(const Welcome& welcome, const Nonce& nonce);
};

} // namespace peerchat
