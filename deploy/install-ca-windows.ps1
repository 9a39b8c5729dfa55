# Installs sluice's CA into the Local Machine "Trusted Root Certification
# Authorities" store (Edge, Chrome and every app using the Windows store).
# Run in an elevated PowerShell:  .\deploy\install-ca-windows.ps1 certs\sluice-ca.pem
param([Parameter(Mandatory = $true)][string]$CaPath)
Import-Certificate -FilePath $CaPath -CertStoreLocation Cert:\LocalMachine\Root | Out-Null
Write-Host "installed $CaPath"
