// Proxy auto-config for an office gateway: only DingTalk and Alibaba Cloud
// traffic goes through sluice; everything else goes direct. Serve it as
// http://wpad.<your-domain>/wpad.dat or point browsers at it explicitly.
// Replace sluice.office.example:3128 with your gateway's address.
function FindProxyForURL(url, host) {
  host = host.toLowerCase();
  if (dnsDomainIs(host, ".dingtalk.com") || dnsDomainIs(host, ".dingtalk.io") ||
      dnsDomainIs(host, ".aliyuncs.com") || dnsDomainIs(host, ".dingtalkapps.com")) {
    return "PROXY sluice.office.example:3128";
  }
  return "DIRECT";
}
