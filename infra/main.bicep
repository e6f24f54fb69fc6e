// FineTuneOrchestrator in Azure: a storage account (task hub, datasets, staging, model registry), a Linux App Service
// plan and web app running src/FineTuneOrchestrator.App, with the app's managed identity granted data access to the
// storage account. Provider keys are passed as secure parameters and kept in app settings (use Key Vault references in
// production).
//
//   az deployment group create -g <rg> -f infra/main.bicep -p appName=<name> providerKind=AzureOpenAI \
//      providerEndpoint=https://<aoai>.openai.azure.com providerApiKey=<key> functionKey=<key> adminKey=<key>

@description('Base name of the resources (lowercase letters and digits).')
@minLength(3)
@maxLength(20)
param appName string

@description('Location of the resources.')
param location string = resourceGroup().location

@description('Fine-tuning provider: OpenAI or AzureOpenAI.')
@allowed([ 'OpenAI', 'AzureOpenAI' ])
param providerKind string = 'AzureOpenAI'

@description('Provider endpoint, e.g. https://<resource>.openai.azure.com or https://api.openai.com/v1.')
param providerEndpoint string

@description('Provider API key (leave empty to use the app identity with Entra ID on Azure OpenAI).')
@secure()
param providerApiKey string = ''

@description('Key for the function routes (/api/...).')
@secure()
param functionKey string

@description('Admin key for the management routes (/runtime/webhooks/durabletask/...).')
@secure()
param adminKey string

@description('Azure OpenAI: resource group of the Azure OpenAI account (for ARM deployments of fine-tuned models).')
param azureOpenAIResourceGroup string = resourceGroup().name

@description('Azure OpenAI: account name (the app identity needs Cognitive Services Contributor on it to deploy models).')
param azureOpenAIAccountName string = ''

@description('App Service plan SKU.')
param skuName string = 'B1'

var storageName = toLower('${appName}st${uniqueString(resourceGroup().id)}')

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: take(storageName, 24)
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
  }
}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: '${appName}-plan'
  location: location
  kind: 'linux'
  sku: { name: skuName }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2023-12-01' = {
  name: appName
  location: location
  kind: 'app,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      linuxFxVersion: 'DOTNETCORE|10.0'
      alwaysOn: true
      healthCheckPath: '/api/health'
      appSettings: [
        { name: 'AzureWebJobsStorage', value: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}' }
        { name: 'FineTune__DurableBackend', value: 'AzureStorage' }
        { name: 'FineTuning__Provider__Kind', value: providerKind }
        { name: 'FineTuning__Provider__Endpoint', value: providerEndpoint }
        { name: 'FineTuning__Provider__ApiKey', value: providerApiKey }
        { name: 'FineTuning__Provider__UseEntraId', value: string(empty(providerApiKey)) }
        { name: 'FineTuning__Provider__Azure__SubscriptionId', value: subscription().subscriptionId }
        { name: 'FineTuning__Provider__Azure__ResourceGroup', value: azureOpenAIResourceGroup }
        { name: 'FineTuning__Provider__Azure__AccountName', value: azureOpenAIAccountName }
        { name: 'FunctionKeys__Default', value: functionKey }
        { name: 'FunctionKeys__Master', value: adminKey }
      ]
    }
  }
}

// Storage Blob Data Contributor and Storage Queue Data Contributor for the app's identity (Entra ID access).
var roles = [ 'ba92f5b4-2d11-453d-a403-e96b0029c9fe', '974c5e8b-45b9-4653-ba55-5f855dd0fb88' ]
resource grants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in roles: {
  name: guid(storage.id, app.id, role)
  scope: storage
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

output appUrl string = 'https://${app.properties.defaultHostName}'
output storageAccount string = storage.name
