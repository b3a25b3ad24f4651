/*
 * Parquet KmsClient that lets Spark (PropertiesDrivenCryptoFactory) open files written by
 * bastide. In a bastide file, each file key is wrapped by the data key of the file's scope
 * (the "master key identifier" Parquet records, e.g. "warehouse:person:3") with AES-256-GCM:
 * base64(nonce[12] || ciphertext || tag[16]), the scope's UTF-8 bytes as additional data.
 *
 * The scope data keys are handed to the session, already unwrapped, in the Hadoop property
 * bastide.kms.secret.keys = "scope=hex;scope=hex" (the master key never leaves bastide's
 * key provider). The property name contains "secret" so that Spark redacts it in its UI.
 */
package bastide.kms;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.crypto.KeyAccessDeniedException;
import org.apache.parquet.crypto.keytools.KmsClient;

public class BastideKmsClient implements KmsClient {
  public static final String KEYS_PROPERTY = "bastide.kms.secret.keys";
  private static final int NONCE = 12;
  private static final int TAG_BITS = 128;
  private final Map<String, byte[]> keys = new HashMap<>();
  private final SecureRandom random = new SecureRandom();

  @Override
  public void initialize(
      Configuration conf, String kmsInstanceID, String kmsInstanceURL, String accessToken) {
    String spec = conf.getTrimmed(KEYS_PROPERTY, "");
    for (String entry : spec.split(";")) {
      int eq = entry.indexOf('=');
      if (eq <= 0) {
        continue;
      }
      keys.put(entry.substring(0, eq), hex(entry.substring(eq + 1)));
    }
  }

  private byte[] key(String scope) {
    byte[] key = keys.get(scope);
    if (key == null) {
      throw new KeyAccessDeniedException(
          "bastide: no data key for scope '" + scope + "' was given to this session");
    }
    return key;
  }

  @Override
  public String wrapKey(byte[] keyBytes, String scope) {
    try {
      byte[] nonce = new byte[NONCE];
      random.nextBytes(nonce);
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(
          Cipher.ENCRYPT_MODE,
          new SecretKeySpec(key(scope), "AES"),
          new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(scope.getBytes(StandardCharsets.UTF_8));
      byte[] sealed = cipher.doFinal(keyBytes);
      byte[] out = new byte[NONCE + sealed.length];
      System.arraycopy(nonce, 0, out, 0, NONCE);
      System.arraycopy(sealed, 0, out, NONCE, sealed.length);
      return Base64.getEncoder().encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new KeyAccessDeniedException("bastide: cannot wrap a file key", e);
    }
  }

  @Override
  public byte[] unwrapKey(String wrappedKey, String scope) {
    try {
      byte[] blob = Base64.getDecoder().decode(wrappedKey);
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(
          Cipher.DECRYPT_MODE,
          new SecretKeySpec(key(scope), "AES"),
          new GCMParameterSpec(TAG_BITS, blob, 0, NONCE));
      cipher.updateAAD(scope.getBytes(StandardCharsets.UTF_8));
      return cipher.doFinal(blob, NONCE, blob.length - NONCE);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new KeyAccessDeniedException(
          "bastide: the file key of scope '" + scope + "' does not open (altered, or wrong key)",
          e);
    }
  }

  private static byte[] hex(String text) {
    byte[] out = new byte[text.length() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) Integer.parseInt(text.substring(2 * i, 2 * i + 2), 16);
    }
    return out;
  }
}
