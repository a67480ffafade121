// BouncyCastle peer for the yinxin interop tests (crates/yinxin-interop-tests).
//
// Run as a single-file program: java -cp /usr/share/java/bcprov.jar Sm2Peer.java jobs.txt
// in the directory holding the files the jobs name. It uses only BouncyCastle's lightweight
// API (no JCA provider), so what it checks is BouncyCastle's own SM2, SM4 and GCM code.
//
// jobs.txt holds one job per line; the peer prints one result line per job, in order:
// "ok", "valid", "invalid" or "error: <message>". Files are DER or raw bytes; "id" is the
// SM2 signer ID in hex, or "-" for BouncyCastle's default ID (it must be 1234567812345678).
//
//   keygen   <private.der out> <public.der out>     SM2 key: PKCS#8 and SubjectPublicKeyInfo
//   sign     <private.der> <id> <message> <signature out>            SM2Signer, DER (r, s)
//   verify   <public.der> <id> <message> <signature>                 -> valid | invalid
//   encrypt  <public.der> <c1c3c2|c1c2c3> <message> <ciphertext out> SM2Engine, 04 || ...
//   decrypt  <private.der> <c1c3c2|c1c2c3> <ciphertext> <plaintext out>
//   gcm-seal <aes|sm4> <key hex> <nonce hex> <aad hex|-> <plaintext> <sealed out>
//   gcm-open <aes|sm4> <key hex> <nonce hex> <aad hex|-> <sealed> <plaintext out>

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;

import org.bouncycastle.asn1.gm.GMNamedCurves;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.BlockCipher;
import org.bouncycastle.crypto.CipherParameters;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.engines.SM2Engine;
import org.bouncycastle.crypto.engines.SM4Engine;
import org.bouncycastle.crypto.generators.ECKeyPairGenerator;
import org.bouncycastle.crypto.modes.GCMBlockCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.ECKeyGenerationParameters;
import org.bouncycastle.crypto.params.ECNamedDomainParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithID;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.signers.SM2Signer;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.bouncycastle.util.encoders.Hex;

public class Sm2Peer {
    private static final SecureRandom RANDOM = new SecureRandom();

    public static void main(String[] args) throws Exception {
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
            case "keygen": {
                X9ECParameters x9 = GMNamedCurves.getByOID(GMObjectIdentifiers.sm2p256v1);
                ECNamedDomainParameters domain =
                        new ECNamedDomainParameters(GMObjectIdentifiers.sm2p256v1, x9);
                ECKeyPairGenerator gen = new ECKeyPairGenerator();
                gen.init(new ECKeyGenerationParameters(domain, RANDOM));
                AsymmetricCipherKeyPair pair = gen.generateKeyPair();
                write(a[1], PrivateKeyInfoFactory
                        .createPrivateKeyInfo(pair.getPrivate()).getEncoded());
                write(a[2], SubjectPublicKeyInfoFactory
                        .createSubjectPublicKeyInfo(pair.getPublic()).getEncoded());
                return "ok";
            }
            case "sign": {
                CipherParameters key = new ParametersWithRandom(
                        PrivateKeyFactory.createKey(read(a[1])), RANDOM);
                SM2Signer signer = new SM2Signer();
                signer.init(true, withId(key, a[2]));
                byte[] msg = read(a[3]);
                signer.update(msg, 0, msg.length);
                write(a[4], signer.generateSignature());
                return "ok";
            }
            case "verify": {
                SM2Signer signer = new SM2Signer();
                signer.init(false, withId(PublicKeyFactory.createKey(read(a[1])), a[2]));
                byte[] msg = read(a[3]);
                signer.update(msg, 0, msg.length);
                return signer.verifySignature(read(a[4])) ? "valid" : "invalid";
            }
            case "encrypt": {
                SM2Engine engine = new SM2Engine(mode(a[2]));
                engine.init(true, new ParametersWithRandom(
                        PublicKeyFactory.createKey(read(a[1])), RANDOM));
                byte[] msg = read(a[3]);
                write(a[4], engine.processBlock(msg, 0, msg.length));
                return "ok";
            }
            case "decrypt": {
                SM2Engine engine = new SM2Engine(mode(a[2]));
                engine.init(false, PrivateKeyFactory.createKey(read(a[1])));
                byte[] ct = read(a[3]);
                write(a[4], engine.processBlock(ct, 0, ct.length));
                return "ok";
            }
            case "gcm-seal":
            case "gcm-open": {
                boolean seal = a[0].equals("gcm-seal");
                BlockCipher block = a[1].equals("sm4") ? new SM4Engine() : new AESEngine();
                GCMBlockCipher gcm = new GCMBlockCipher(block);
                byte[] aad = a[4].equals("-") ? new byte[0] : Hex.decode(a[4]);
                gcm.init(seal, new AEADParameters(
                        new KeyParameter(Hex.decode(a[2])), 128, Hex.decode(a[3]), aad));
                byte[] in = read(a[5]);
                byte[] out = new byte[gcm.getOutputSize(in.length)];
                int n = gcm.processBytes(in, 0, in.length, out, 0);
                n += gcm.doFinal(out, n);
                byte[] exact = new byte[n];
                System.arraycopy(out, 0, exact, 0, n);
                write(a[6], exact);
                return "ok";
            }
            default:
                return "error: unknown job " + a[0];
        }
    }

    private static CipherParameters withId(CipherParameters key, String idHex) {
        return idHex.equals("-") ? key : new ParametersWithID(key, Hex.decode(idHex));
    }

    private static SM2Engine.Mode mode(String name) {
        switch (name) {
            case "c1c3c2":
                return SM2Engine.Mode.C1C3C2;
            case "c1c2c3":
                return SM2Engine.Mode.C1C2C3;
            default:
                throw new IllegalArgumentException("unknown SM2 ciphertext mode " + name);
        }
    }

    private static byte[] read(String name) throws Exception {
        return Files.readAllBytes(Path.of(name));
    }

    private static void write(String name, byte[] data) throws Exception {
        Files.write(Path.of(name), data);
    }
}
