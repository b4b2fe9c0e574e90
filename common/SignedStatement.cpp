#include "SignedStatement.h"

#include "Base64.h"

namespace peerchat {

namespace {

std::string statement(std::string_view purpose, std::string_view body)
{
    std::string out = "peerchat/3 ";
    out += purpose;
    out += '\n';
    out += body;
    return out;
}

} // namespace

std::string SignedStatement::kx(const PublicKey& identity, const std::string& name, const PublicKey& kx,
                                const PublicKey& indexIdentity, const Epoch& epoch)
{
    return statement("kx", Base64::encode(identity) + "\n" + name + "\n" + Base64::encode(kx) + "\n" +
                               Base64::encode(indexIdentity) + "\n" + Base64::encode(epoch));
}

std::string SignedStatement::challenge(const Challenge& challenge)
{
    return statement("challenge", Protocol::encodeUnsigned(challenge));
}

std::string SignedStatement::mail(const PublicKey& recipient, const PublicKey& ephemeral, std::string_view msg)
{
    std::string body(recipient.begin(), recipient.end());
    body.append(ephemeral.begin(), ephemeral.end());
    body.append(msg);
    return statement("mail", body);
}

std::string SignedStatement::contacts(const ContactsDeclaration& declaration)
{
    return statement("contacts", Protocol::encodeUnsigned(declaration));
}

std::string SignedStatement::auth(const Auth& auth)
{
    return statement("auth", Protocol::encodeUnsigned(auth));
}

std::string SignedStatement::welcome(const Welcome& welcome, const Nonce& nonce)
{
    return statement("welcome", Base64::encode(nonce) + "\n" + Protocol::encodeUnsigned(welcome));
}

} // namespace peerchat
