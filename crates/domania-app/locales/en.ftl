# Domania's messages in English (on request). Every message is in fr.ftl too: a test checks.
# Numbers, areas and dates come already written.

parcels-count = { $count ->
    [one] { $count } parcel
   *[other] { $count } parcels
}
