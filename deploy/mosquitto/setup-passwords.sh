#!/bin/sh
# Create the Mosquitto password file of the Shoumen broker (run once at set-up, as root).
#   deploy/mosquitto/setup-passwords.sh /etc/mosquitto/shoumen.passwd
# Asks for each account's password (mosquitto_passwd hashes them, PBKDF2-SHA512). Add further
# device accounts with `mosquitto_passwd /etc/mosquitto/shoumen.passwd <name>` and a matching
# `user <name>` block in shoumen.acl; give the bridge's password to the service as
# SHOUMEN_MQTT_USERNAME=shoumen-bridge / SHOUMEN_MQTT_PASSWORD.
set -eu
FILE="${1:-/etc/mosquitto/shoumen.passwd}"
touch "$FILE"
chmod 600 "$FILE"
for user in shoumen-bridge shoumen-device frigate; do
  echo "password for $user:"
  mosquitto_passwd "$FILE" "$user"
done
chown mosquitto: "$FILE" 2>/dev/null || true
