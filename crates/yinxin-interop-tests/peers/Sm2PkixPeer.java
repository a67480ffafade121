// BouncyCastle PKIX peer for the yinxin interop tests (crates/yinxin-interop-tests): checks
// certificates, CRLs and OCSP responses that yinxin-pki wrote, with BouncyCastle's PKIX API
// (org.bouncycastle.cert.*, org.bouncycastle.cert.ocsp.*) and the BC provider.
//
// Run as a single-file program in the directory holding the files the jobs name:
//   java -cp /usr/share/java/bcprov.jar:/usr/share/java/bcutil.jar:/usr/share/java/bcpkix.jar \
//        Sm2PkixPeer.java jobs.txt
// (Debian packages libbcprov-java, libbcutil-java and libbcpkix-java.)
//
// SM2 signatures are checked by the provider's SM3withSM2, which uses the default SM2 ID
// 1234567812345678 when no SM2ParameterSpec is set: the ID every relying party assumes for
// X.509 objects.
//
// jobs.txt holds one job per line; the peer prints one line per job, in order. The first word
// is the verdict: "valid" or "invalid" (the signature), or "error: <message>" when the input
// cannot be processed. Facts follow as space-separated key=value words (a key may repeat).
// Files are DER.
//
//   cert <cert> <issuer cert>      signature by the holder API and by the JCA X509Certificate
//                                  (they must agree), then sigalg, sigalg-params (absent|null|
//                                  other), serial, ski, ski-method1 (whether ski is the SHA-1 of
//                                  the key bits), aki, ku (RFC 5280 bit n = 1 << n), eku, ca,
//                                  pathlen, nocheck and
//                                  gmt0015.<n>=[t<tag>:]<string> for GM/T 0015 identity
//                                  extensions
//   path <root> <cert>...          PKIX validation by the BC CertPathValidator, root as trust
//                                  anchor, certificates from the root down, revocation off;
//                                  "valid" or "invalid <reason>"
//   crl <crl> <issuer cert>        signature (holder API and JCA X509CRL), then issuer-match,
//                                  number, aki, this-update, next-update (Unix seconds) and one
//                                  revoked=<serial>:<reason code|->:<time> per entry
//   ocsp <response> <issuer cert> <responder cert|->
//                                  OCSPResp -> BasicOCSPResp; "-" takes the responder
//                                  certificate from the response's certs (delegated), else
//                                  the given file is the signer. The verdict is the response
//                                  signature under that certificate's key; facts: status,
//                                  certs, responder-id (match|mismatch against byKey SHA-1),
//                                  for "-" signer-cert (valid|invalid under the issuer),
//                                  eku-ocsp, nocheck; produced-at, nonce, and one
//                                  single=<serial>:<good|revoked/<reason|->/<time>|unknown>:
//                                  <thisUpdate>:<nextUpdate|->:<hash OID>:<issuer match|mismatch>
//   verify-id <cert|crl|ocsp> <file> <issuer cert> <id hex>
//                                  the signature under an explicit SM2 ID (SM2Signer with
//                                  ParametersWithID), for the negative controls' positive twin

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.security.Security;
import java.security.SignatureException;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.CertificateList;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.X509CRLEntryHolder;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.bc.BcX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.cert.ocsp.UnknownStatus;
import org.bouncycastle.crypto.params.ParametersWithID;
import org.bouncycastle.crypto.signers.SM2Signer;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.util.encoders.Hex;

public class Sm2PkixPeer {
    private static final String BC = BouncyCastleProvider.PROVIDER_NAME;
    private static final String GMT0015 = "1.2.156.10260.4.1.";

    public static void main(String[] args) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        List<String> jobs = Files.readAllLines(Path.of(args[0]));
        StringBuilder out = new StringBuilder();
        for (String job : jobs) {
            if (job.isBlank()) {
                continue;
            }
            String result;
            try {
                result = run(job.trim().split("\\s+"));
            } catch (Exception e) {
                result = "error: " + e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            out.append(result.replace('\n', ' ')).append('\n');
        }
        System.out.print(out);
    }

    private static String run(String[] a) throws Exception {
        switch (a[0]) {
            case "cert":
                return cert(holder(a[1]), holder(a[2]));
            case "path": {
                List<X509Certificate> chain = new ArrayList<>();
                for (int i = 2; i < a.length; i++) {
                    chain.add(jca(a[i]));
                }
                return path(jca(a[1]), chain);
            }
            case "crl":
                return crl(new X509CRLHolder(read(a[1])), holder(a[2]));
            case "ocsp":
                return ocsp(read(a[1]), holder(a[2]), a[3].equals("-") ? null : holder(a[3]));
            case "verify-id":
                return verifyWithId(a[1], read(a[2]), holder(a[3]), Hex.decode(a[4]));
            default:
                return "error: unknown job " + a[0];
        }
    }

    private static String cert(X509CertificateHolder cert, X509CertificateHolder issuer)
            throws Exception {
        boolean holderOk = cert.isSignatureValid(verifier(issuer));
        boolean jcaOk = jcaVerify(() -> jca(cert).verify(key(issuer), BC));
        if (holderOk != jcaOk) {
            return "error: the holder API says " + holderOk + ", X509Certificate.verify " + jcaOk;
        }
        StringBuilder s = new StringBuilder(holderOk ? "valid" : "invalid");
        AlgorithmIdentifier alg = cert.getSignatureAlgorithm();
        fact(s, "sigalg", alg.getAlgorithm().getId());
        fact(s, "sigalg-params", params(alg));
        fact(s, "serial", cert.getSerialNumber().toString(16));
        Extensions exts = cert.getExtensions();
        SubjectKeyIdentifier ski = SubjectKeyIdentifier.fromExtensions(exts);
        if (ski != null) {
            fact(s, "ski", Hex.toHexString(ski.getKeyIdentifier()));
            // RFC 5280 section 4.2.1.2 method 1, computed by BouncyCastle (SHA-1 of the key bits).
            SubjectKeyIdentifier method1 = new BcX509ExtensionUtils()
                    .createSubjectKeyIdentifier(cert.getSubjectPublicKeyInfo());
            fact(s, "ski-method1", yes(method1.equals(ski)));
        }
        AuthorityKeyIdentifier aki = AuthorityKeyIdentifier.fromExtensions(exts);
        if (aki != null) {
            fact(s, "aki", Hex.toHexString(aki.getKeyIdentifier()));
        }
        KeyUsage ku = KeyUsage.fromExtensions(exts);
        if (ku != null) {
            fact(s, "ku", Integer.toString(kuBits(ku)));
        }
        ExtendedKeyUsage eku = ExtendedKeyUsage.fromExtensions(exts);
        if (eku != null) {
            List<String> ids = new ArrayList<>();
            for (KeyPurposeId id : eku.getUsages()) {
                ids.add(id.getId());
            }
            fact(s, "eku", String.join(",", ids));
        }
        BasicConstraints bc = BasicConstraints.fromExtensions(exts);
        fact(s, "ca", Boolean.toString(bc != null && bc.isCA()));
        if (bc != null && bc.getPathLenConstraint() != null) {
            fact(s, "pathlen", bc.getPathLenConstraint().toString());
        }
        fact(s, "nocheck", yes(cert.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nocheck) != null));
        for (Object o : cert.getExtensionOIDs()) {
            ASN1ObjectIdentifier oid = (ASN1ObjectIdentifier) o;
            if (oid.getId().startsWith(GMT0015)) {
                fact(s, "gmt0015." + oid.getId().substring(GMT0015.length()),
                        identity(cert.getExtension(oid).getParsedValue()));
            }
        }
        return s.toString();
    }

    // keyUsage as the integer of RFC 5280's bit numbering: bit n (digitalSignature = 0) is 1 << n.
    private static int kuBits(KeyUsage ku) {
        int bits = 0;
        int[] flags = {KeyUsage.digitalSignature, KeyUsage.nonRepudiation, KeyUsage.keyEncipherment,
                KeyUsage.dataEncipherment, KeyUsage.keyAgreement, KeyUsage.keyCertSign,
                KeyUsage.cRLSign, KeyUsage.encipherOnly, KeyUsage.decipherOnly};
        for (int n = 0; n < flags.length; n++) {
            if (ku.hasUsages(flags[n])) {
                bits |= 1 << n;
            }
        }
        return bits;
    }

    // A GM/T 0015 identity value: a string, or a tagged string ("t<tag>:<string>").
    private static String identity(ASN1Encodable value) {
        ASN1Primitive p = value.toASN1Primitive();
        if (p instanceof ASN1TaggedObject) {
            ASN1TaggedObject t = (ASN1TaggedObject) p;
            return "t" + t.getTagNo() + ":" + identity(t.getExplicitBaseObject());
        }
        if (p instanceof ASN1String) {
            return ((ASN1String) p).getString();
        }
        return "?" + p.getClass().getSimpleName();
    }

    private static String path(X509Certificate root, List<X509Certificate> fromRoot)
            throws Exception {
        List<X509Certificate> leafFirst = new ArrayList<>(fromRoot);
        Collections.reverse(leafFirst);
        CertificateFactory cf = CertificateFactory.getInstance("X.509", BC);
        CertPath certPath = cf.generateCertPath(leafFirst);
        PKIXParameters params = new PKIXParameters(Collections.singleton(new TrustAnchor(root, null)));
        params.setRevocationEnabled(false);
        params.setDate(new Date());
        try {
            CertPathValidator.getInstance("PKIX", BC).validate(certPath, params);
            return "valid";
        } catch (CertPathValidatorException e) {
            Throwable c = e.getCause();
            return "invalid " + e.getMessage() + (c == null ? "" : " (" + c + ")");
        }
    }

    private static String crl(X509CRLHolder crl, X509CertificateHolder issuer) throws Exception {
        boolean holderOk = crl.isSignatureValid(verifier(issuer));
        X509CRL jcaCrl = new JcaX509CRLConverter().setProvider(BC).getCRL(crl);
        boolean jcaOk = jcaVerify(() -> jcaCrl.verify(key(issuer), BC));
        if (holderOk != jcaOk) {
            return "error: the holder API says " + holderOk + ", X509CRL.verify " + jcaOk;
        }
        StringBuilder s = new StringBuilder(holderOk ? "valid" : "invalid");
        fact(s, "sigalg", crl.toASN1Structure().getSignatureAlgorithm().getAlgorithm().getId());
        fact(s, "sigalg-params", params(crl.toASN1Structure().getSignatureAlgorithm()));
        fact(s, "issuer-match", crl.getIssuer().equals(issuer.getSubject()) ? "yes" : "no");
        Extension number = crl.getExtension(Extension.cRLNumber);
        if (number != null) {
            fact(s, "number", ASN1Integer.getInstance(number.getParsedValue()).getValue().toString(16));
        }
        AuthorityKeyIdentifier aki = AuthorityKeyIdentifier.fromExtensions(crl.getExtensions());
        if (aki != null) {
            fact(s, "aki", Hex.toHexString(aki.getKeyIdentifier()));
        }
        fact(s, "this-update", secs(crl.getThisUpdate()));
        fact(s, "next-update", crl.getNextUpdate() == null ? "-" : secs(crl.getNextUpdate()));
        for (Object o : crl.getRevokedCertificates()) {
            X509CRLEntryHolder e = (X509CRLEntryHolder) o;
            Extension reason = e.getExtensions() == null
                    ? null : e.getExtensions().getExtension(Extension.reasonCode);
            String code = reason == null
                    ? "-" : CRLReason.getInstance(reason.getParsedValue()).getValue().toString();
            fact(s, "revoked", e.getSerialNumber().toString(16) + ":" + code + ":"
                    + secs(e.getRevocationDate()));
        }
        return s.toString();
    }

    private static String ocsp(byte[] der, X509CertificateHolder issuer,
            X509CertificateHolder given) throws Exception {
        OCSPResp resp = new OCSPResp(der);
        if (resp.getStatus() != OCSPResp.SUCCESSFUL) {
            return "error: OCSP response status " + resp.getStatus();
        }
        BasicOCSPResp basic = (BasicOCSPResp) resp.getResponseObject();
        X509CertificateHolder[] certs = basic.getCerts();
        DigestCalculatorProvider digests =
                new JcaDigestCalculatorProviderBuilder().setProvider(BC).build();
        StringBuilder facts = new StringBuilder();
        fact(facts, "certs", Integer.toString(certs.length));
        X509CertificateHolder signer = given;
        if (signer == null) {
            if (certs.length != 1) {
                return "error: expected one responder certificate in the response, found "
                        + certs.length;
            }
            signer = certs[0];
            fact(facts, "signer-cert",
                    signer.isSignatureValid(verifier(issuer)) ? "valid" : "invalid");
            fact(facts, "signer-issuer-match", yes(signer.getIssuer().equals(issuer.getSubject())));
            ExtendedKeyUsage eku = ExtendedKeyUsage.fromExtensions(signer.getExtensions());
            fact(facts, "eku-ocsp", yes(eku != null && eku.hasKeyPurposeId(KeyPurposeId.id_kp_OCSPSigning)));
            fact(facts, "nocheck",
                    yes(signer.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nocheck) != null));
        }
        RespID byKey = new RespID(signer.getSubjectPublicKeyInfo(), digests.get(RespID.HASH_SHA1));
        fact(facts, "responder-id", basic.getResponderId().equals(byKey) ? "match" : "mismatch");
        fact(facts, "sigalg", basic.getSignatureAlgorithmID().getAlgorithm().getId());
        fact(facts, "sigalg-params", params(basic.getSignatureAlgorithmID()));
        fact(facts, "produced-at", secs(basic.getProducedAt()));
        Extension nonce = basic.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce);
        fact(facts, "nonce", nonce == null ? "-" : Hex.toHexString(
                ASN1OctetString.getInstance(nonce.getExtnValue().getOctets()).getOctets()));
        for (SingleResp r : basic.getResponses()) {
            CertificateID id = r.getCertID();
            CertificateStatus st = r.getCertStatus();
            String status;
            if (st == CertificateStatus.GOOD) {
                status = "good";
            } else if (st instanceof RevokedStatus) {
                RevokedStatus rs = (RevokedStatus) st;
                status = "revoked/" + (rs.hasRevocationReason()
                        ? Integer.toString(rs.getRevocationReason()) : "-")
                        + "/" + secs(rs.getRevocationTime());
            } else if (st instanceof UnknownStatus) {
                status = "unknown";
            } else {
                status = "?" + st;
            }
            fact(facts, "single", id.getSerialNumber().toString(16) + ":" + status + ":"
                    + secs(r.getThisUpdate()) + ":"
                    + (r.getNextUpdate() == null ? "-" : secs(r.getNextUpdate())) + ":"
                    + id.getHashAlgOID().getId() + ":"
                    + (id.matchesIssuer(issuer, digests) ? "match" : "mismatch"));
        }
        boolean ok = basic.isSignatureValid(verifier(signer));
        return (ok ? "valid" : "invalid") + facts;
    }

    private static String verifyWithId(String kind, byte[] der, X509CertificateHolder issuer,
            byte[] id) throws Exception {
        byte[] tbs;
        byte[] sig;
        switch (kind) {
            case "cert": {
                org.bouncycastle.asn1.x509.Certificate c =
                        org.bouncycastle.asn1.x509.Certificate.getInstance(der);
                tbs = c.getTBSCertificate().getEncoded("DER");
                sig = c.getSignature().getOctets();
                break;
            }
            case "crl": {
                CertificateList c = CertificateList.getInstance(der);
                tbs = c.getTBSCertList().getEncoded("DER");
                sig = c.getSignature().getOctets();
                break;
            }
            case "ocsp": {
                BasicOCSPResp b = (BasicOCSPResp) new OCSPResp(der).getResponseObject();
                tbs = b.getTBSResponseData();
                sig = b.getSignature();
                break;
            }
            default:
                return "error: unknown kind " + kind;
        }
        SM2Signer signer = new SM2Signer();
        signer.init(false, new ParametersWithID(
                PublicKeyFactory.createKey(issuer.getSubjectPublicKeyInfo()), id));
        signer.update(tbs, 0, tbs.length);
        return signer.verifySignature(sig) ? "valid" : "invalid";
    }

    private interface Check {
        void run() throws Exception;
    }

    // A JCA verify() that signals a bad signature by SignatureException.
    private static boolean jcaVerify(Check check) throws Exception {
        try {
            check.run();
            return true;
        } catch (SignatureException e) {
            return false;
        }
    }

    private static String params(AlgorithmIdentifier alg) {
        ASN1Encodable p = alg.getParameters();
        if (p == null) {
            return "absent";
        }
        return p.toASN1Primitive().equals(DERNull.INSTANCE) ? "null" : "other";
    }

    private static ContentVerifierProvider verifier(X509CertificateHolder cert) throws Exception {
        return new JcaContentVerifierProviderBuilder().setProvider(BC).build(cert);
    }

    private static PublicKey key(X509CertificateHolder cert) throws Exception {
        return jca(cert).getPublicKey();
    }

    private static X509CertificateHolder holder(String file) throws Exception {
        return new X509CertificateHolder(read(file));
    }

    private static X509Certificate jca(X509CertificateHolder cert) throws Exception {
        return new JcaX509CertificateConverter().setProvider(BC).getCertificate(cert);
    }

    private static X509Certificate jca(String file) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509", BC)
                .generateCertificate(new ByteArrayInputStream(read(file)));
    }

    private static void fact(StringBuilder s, String key, String value) {
        s.append(' ').append(key).append('=').append(value.replace(' ', '_'));
    }

    private static String yes(boolean b) {
        return b ? "yes" : "no";
    }

    private static String secs(Date d) {
        return Long.toString(d.getTime() / 1000);
    }

    private static byte[] read(String name) throws Exception {
        return Files.readAllBytes(Path.of(name));
    }
}
