// The function app and what it needs in its resource group. Every connection is identity-based: the app's settings hold
// no storage keys, and the provider key (when there is one) is a Key Vault reference.

param environmentName string
param location string
param tags object
param providerKind string
param providerEndpoint string
@secure()
param providerApiKey string
param azureOpenAIAccountName string
param azureOpenAIResourceGroup string
param azureOpenAISubscriptionId string
param maximumInstanceCount int
param instanceMemoryMB int
param deployerPrincipalId string
param deployerPrincipalType string

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var appName = 'func-fto-${token}'
var deploymentContainer = 'app-package-${take(token, 20)}'
var useKeyVault = !empty(providerApiKey)
var vaultName = 'kv-fto-${take(token, 14)}'
var providerKeySecretName = 'provider-api-key'

// Built-in role definitions the app's identity gets.
var storageRoles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner: task hub leases and large messages, deployment package, datasets, registry
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor: task hub control and work-item queues, blob trigger poison queue
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor: task hub instances and history tables
]
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // the deployer: uploads datasets, reads run files
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-fto-${token}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-fto-${token}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    // Telemetry only with Entra ID (the app's identity has Monitoring Metrics Publisher).
    DisableLocalAuth: true
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stfto${token}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// The deployment package (Flex Consumption), and the app's containers: datasets dropped by users, staged copies,
// run files (reports, evaluation results), the model registry.
resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for name in [ deploymentContainer, 'datasets', 'staging', 'runs', 'models' ]: {
  parent: blobService
  name: name
}]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-fto-${token}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = if (useKeyVault) {
  name: vaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
  }
}

resource providerKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (useKeyVault) {
  parent: vault
  name: providerKeySecretName
  properties: {
    value: providerApiKey
  }
}

var providerKeySetting = useKeyVault ? [ { name: 'FineTuning__Provider__ApiKey', value: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${providerKeySecretName})' } ] : []
var azureOpenAISettings = providerKind == 'AzureOpenAI' ? [
  { name: 'FineTuning__Provider__UseEntraId', value: string(!useKeyVault) }
  { name: 'FineTuning__Provider__Azure__SubscriptionId', value: azureOpenAISubscriptionId }
  { name: 'FineTuning__Provider__Azure__ResourceGroup', value: azureOpenAIResourceGroup }
  { name: 'FineTuning__Provider__Azure__AccountName', value: azureOpenAIAccountName }
] : []

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'functions' })
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: concat([
        // Identity-based AzureWebJobsStorage: the host, Durable Functions, the blob trigger and the app's own clients.
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
        { name: 'FineTuning__Provider__Kind', value: providerKind }
        { name: 'FineTuning__Provider__Endpoint', value: providerEndpoint }
        { name: 'FineTune__Pipeline__DatasetsContainer', value: 'datasets' }
        { name: 'FineTune__Pipeline__StagingContainer', value: 'staging' }
        { name: 'FineTune__Pipeline__RunsContainer', value: 'runs' }
        { name: 'FineTune__Registry__ContainerName', value: 'models' }
        // The lifecycle sweep's timer (NCRONTAB with seconds): redeploys deleted alias deployments, re-trains before retirement.
        { name: 'FineTune__Lifecycle__Schedule', value: '0 0 */6 * * *' }
      ], providerKeySetting, azureOpenAISettings)
    }
  }
}

resource storageGrants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in storageRoles: {
  name: guid(storage.id, app.id, role)
  scope: storage
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

// Whoever runs azd can upload datasets and read reports with Entra ID (the account refuses shared keys), as Microsoft's
// Functions quickstart templates grant their deployer; Contributor, not Owner: no need to change access control.
resource deployerGrant 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(storage.id, deployerPrincipalId, storageBlobDataContributor)
  scope: storage
  properties: {
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
  }
}

resource telemetryGrant 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, app.id, monitoringMetricsPublisher)
  scope: insights
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
  }
}

resource secretGrant 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useKeyVault) {
  name: guid(resourceGroup().id, app.id, keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
  }
}

// Blob events of the storage account; the subscription that sends BlobCreated on datasets/**/train.jsonl to the blob
// trigger needs the blobs extension's system key, which exists only once the code runs: infra/hooks/postdeploy.sh.
resource systemTopic 'Microsoft.EventGrid/systemTopics@2024-06-01-preview' = {
  name: 'evgt-fto-${token}'
  location: location
  tags: tags
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output functionAppName string = app.name
output functionAppUrl string = 'https://${app.properties.defaultHostName}'
output principalId string = app.identity.principalId
output storageAccountName string = storage.name
output systemTopicName string = systemTopic.name
output applicationInsightsName string = insights.name
