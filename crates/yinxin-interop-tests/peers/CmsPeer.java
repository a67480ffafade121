// BouncyCastle CMS peer for the yinxin interop tests (crates/yinxin-interop-tests, bc_cms.rs):
// verifies SignedData and RFC 3161 timestamp tokens that yinxin-cms wrote, and signs
// SignedData with SM3withSM2 for yinxin to verify, with BouncyCastle's CMS/TSP API
// (org.bouncycastle.cms.*, org.bouncycastle.tsp.*) and the BC provider.
//
// Run as a single-file program in the directory holding the files the jobs name:
//   java -cp /usr/share/java/bcprov.jar:/usr/share/java/bcutil.jar:/usr/share/java/bcpkix.jar \
//        CmsPeer.java jobs.txt
//
// SM2 signatures use the provider's SM3withSM2, whose ID is the default 1234567812345678.
//
// jobs.txt holds one job per line; the peer prints one line per job, in order: "valid",
// "invalid <reason>", "ok" or "error: <message>", then facts as key=value words. Files are DER.
//
//   verify <signed> <content|->    CMSSignedData (detached content from the file), every
//                                  SignerInformation verified with the certificate the message
//                                  holds for it; facts: signers, sigalg (of the first signer),
//                                  content-type, content-match (attached content vs the file)
//   tst <token> <data>             TimeStampToken.validate with the certificate in the token,
//                                  then the imprint against the data hashed with the token's
//                                  hash algorithm; facts: serial (hex), policy, hash
//   sign <pkcs8 key> <cert> <content> <out> <attached|detached>
//                                  CMSSignedDataGenerator with SM3withSM2 and BC's default
//                                  signed attributes, the certificate included

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Security;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.TimeStampToken;
import org.bouncycastle.tsp.TimeStampTokenInfo;
import org.bouncycastle.util.Store;

public class CmsPeer {
    public static void main(String[] args) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        List<String> jobs = Files.readAllLines(Path.of(args[0]));
        StringBuilder out = new StringBuilder();
        for (String job : jobs) {
            String[] w = job.trim().split("\\s+");
            String line;
            try {
                switch (w[0]) {
                    case "verify": line = verify(w[1], w[2]); break;
                    case "tst": line = tst(w[1], w[2]); break;
                    case "sign": line = sign(w[1], w[2], w[3], w[4], w[5]); break;
                    default: line = "error: unknown job " + w[0];
                }
            } catch (Exception e) {
                line = "error: " + e.getClass().getSimpleName() + ": "
                        + String.valueOf(e.getMessage()).replace('\n', ' ');
            }
            out.append(line).append('\n');
        }
        System.out.print(out);
    }

    static byte[] read(String name) throws Exception {
        return Files.readAllBytes(Path.of(name));
    }

    @SuppressWarnings("unchecked")
    static X509CertificateHolder certFor(Store<X509CertificateHolder> certs, SignerInformation si) {
        Collection<X509CertificateHolder> matches = certs.getMatches(si.getSID());
        return matches.isEmpty() ? null : matches.iterator().next();
    }

    static String verify(String signedFile, String contentFile) throws Exception {
        byte[] signed = read(signedFile);
        CMSSignedData sd = contentFile.equals("-")
                ? new CMSSignedData(signed)
                : new CMSSignedData(new CMSProcessableByteArray(read(contentFile)), signed);
        Store<X509CertificateHolder> certs = sd.getCertificates();
        int n = 0;
        String sigalg = "-";
        for (SignerInformation si : sd.getSignerInfos().getSigners()) {
            X509CertificateHolder cert = certFor(certs, si);
            if (cert == null) {
                return "invalid no-certificate";
            }
            if (n == 0) {
                sigalg = si.getEncryptionAlgOID();
            }
            boolean ok = si.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(cert));
            if (!ok) {
                return "invalid signature signer=" + n;
            }
            n++;
        }
        String match = "-";
        if (contentFile.equals("-") && sd.getSignedContent() != null) {
            match = "attached";
        }
        return "valid signers=" + n + " sigalg=" + sigalg + " content-type="
                + sd.getSignedContentTypeOID() + " content=" + match;
    }

    static String tst(String tokenFile, String dataFile) throws Exception {
        TimeStampToken token = new TimeStampToken(new CMSSignedData(read(tokenFile)));
        @SuppressWarnings("unchecked")
        Collection<X509CertificateHolder> matches = token.getCertificates().getMatches(token.getSID());
        if (matches.isEmpty()) {
            return "invalid no-certificate";
        }
        X509CertificateHolder cert = matches.iterator().next();
        token.validate(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(cert));
        TimeStampTokenInfo info = token.getTimeStampInfo();
        String hashOid = info.getMessageImprintAlgOID().getId();
        MessageDigest md = MessageDigest.getInstance(hashOid, "BC");
        byte[] digest = md.digest(read(dataFile));
        if (!Arrays.equals(digest, info.getMessageImprintDigest())) {
            return "invalid imprint";
        }
        return "valid serial=" + info.getSerialNumber().toString(16) + " policy="
                + info.getPolicy().getId() + " hash=" + hashOid;
    }

    static String sign(String keyFile, String certFile, String contentFile, String outFile,
            String mode) throws Exception {
        PrivateKey key = KeyFactory.getInstance("EC", "BC")
                .generatePrivate(new PKCS8EncodedKeySpec(read(keyFile)));
        X509CertificateHolder cert = new X509CertificateHolder(read(certFile));
        ContentSigner signer = new JcaContentSignerBuilder("SM3withSM2").setProvider("BC").build(key);
        CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
        gen.addSignerInfoGenerator(new JcaSignerInfoGeneratorBuilder(
                new JcaDigestCalculatorProviderBuilder().setProvider("BC").build()).build(signer, cert));
        gen.addCertificates(new JcaCertStore(List.of(
                new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().setProvider("BC")
                        .getCertificate(cert))));
        CMSSignedData sd = gen.generate(new CMSProcessableByteArray(read(contentFile)),
                mode.equals("attached"));
        Files.write(Path.of(outFile), sd.getEncoded("DER"));
        return "ok";
    }
}
